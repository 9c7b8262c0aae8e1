using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using O8Actors.Accounts;

namespace O8Actors.Hosting;

/// <summary>
/// Calls APIs through <c>IHttpClientFactory</c> as a signed-in account: each request of the named or typed client
/// carries the account's current access token (<see cref="AccessTokenHandler"/>: cached, refreshed when due, renewed
/// once when the API answers 401).
/// <code>
/// services.AddHttpClient("github", c => c.BaseAddress = new Uri("https://api.github.com/"))
///     .AddOAuthAccessToken("github");                          // the one account signed in with github
/// services.AddHttpClient&lt;CalendarApi&gt;()
///     .AddOAuthAccessToken((services, ct) => CurrentUsersAccountAsync(services, ct));   // a web app: per request
/// services.AddHttpClient("api").AddOAuthAccessToken();          // each request names its account in its Options
/// services.AddHttpClient("gh").AddOAuthAccessToken("github",
///     allowedOrigins: [new Uri("https://api.github.com")]);    // the token goes to that origin only
/// </code>
/// A token is never sent over plain http off this machine's loopback, and, with <c>allowedOrigins</c>, only to those
/// origins: any other request fails before it is sent, with <see cref="InvalidOperationException"/>
/// (<see cref="AccessTokenHandler.AllowedOrigins"/>).
/// </summary>
public static class O8HttpClientBuilderExtensions
{
    /// <summary>
    /// Each request carries the access token of the account signed in with <paramref name="provider"/>: the one named by
    /// <paramref name="accountKey"/> (its <c>sub</c>, or the key the app gave in <see cref="AuthorizationRequest.AccountKey"/>),
    /// or, without a key, the only account of that provider (a desktop or CLI app signed in once).
    /// </summary>
    /// <param name="builder">The client's builder (<c>services.AddHttpClient(...)</c>).</param>
    /// <param name="provider">The registered provider's name.</param>
    /// <param name="accountKey">The account's key; null for the provider's only account.</param>
    /// <param name="scopes">Scopes the token must cover; null for the account's own.</param>
    /// <param name="allowedOrigins">
    /// The origins (such as <c>https://api.example.com</c>) the token may go to, checked when the client is registered;
    /// null for any https origin, or http one on loopback (<see cref="AccessTokenHandler.AllowedOrigins"/>).
    /// </param>
    /// <remarks>
    /// A request fails before it is sent, with <see cref="InvalidOperationException"/>, when no account of the provider
    /// is signed in or several are and no key names one, or when no key is given in server mode (the accounts are the web
    /// users', so "the only one" would be whoever signed in first: name each request's account instead); with <see cref="InteractionRequiredException"/> when the named
    /// account has no tokens or its refresh is refused. A DPoP-bound token is sent with a proof signed with its key.
    /// </remarks>
    public static IHttpClientBuilder AddOAuthAccessToken(this IHttpClientBuilder builder, string provider, string? accountKey = null,
        IReadOnlyList<string>? scopes = null, IReadOnlyCollection<Uri>? allowedOrigins = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        if (accountKey is not null)
        {
            var account = new OAuthAccount(provider, accountKey);
            return builder.AddOAuthAccessToken((_, _) => ValueTask.FromResult(account), scopes, allowedOrigins);
        }

        return builder.AddOAuthAccessToken((services, ct) => OnlyAccountAsync(services, provider, ct), scopes, allowedOrigins);
    }

    /// <summary>
    /// Each request carries the access token of the account <paramref name="account"/> names for it, asked once per
    /// request: a web app returns the signed-in user's account (kept with the user when their login succeeded).
    /// </summary>
    /// <param name="builder">The client's builder (<c>services.AddHttpClient(...)</c>).</param>
    /// <param name="account">
    /// The account a request is for, from the handler's services (singletons such as <c>IHttpContextAccessor</c> reach the
    /// current request; <c>IHttpClientFactory</c> builds handlers in a scope of their own, not the request's).
    /// </param>
    /// <param name="scopes">Scopes the token must cover; null for the account's own.</param>
    /// <param name="allowedOrigins">
    /// The origins (such as <c>https://api.example.com</c>) the token may go to, checked when the client is registered;
    /// null for any https origin, or http one on loopback (<see cref="AccessTokenHandler.AllowedOrigins"/>).
    /// </param>
    public static IHttpClientBuilder AddOAuthAccessToken(this IHttpClientBuilder builder,
        Func<IServiceProvider, CancellationToken, ValueTask<OAuthAccount>> account, IReadOnlyList<string>? scopes = null,
        IReadOnlyCollection<Uri>? allowedOrigins = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(account);
        // Checked now, so a wrong origin fails at startup rather than on the first request; copied, so a later change to
        // the caller's list changes no client.
        var origins = TokenDestinations.Of(allowedOrigins, nameof(allowedOrigins)).Origins;
        // One memory per client for the app's life: the factory builds the client's handlers anew every handler lifetime.
        builder.Services.TryAddKeyedSingleton(MemoryKey(builder.Name), (_, _) => new AccessTokenHandlerMemory());
        return builder.AddHttpMessageHandler(services =>
            new AccessTokenHandler(services.GetRequiredService<IOAuthLogins>(), ct => account(services, ct), scopes)
            {
                AllowedOrigins = origins,
                Memory = services.GetRequiredKeyedService<AccessTokenHandlerMemory>(MemoryKey(builder.Name)),
            });
    }

    /// <summary>
    /// Each request carries the access token of the account it names in its options
    /// (<c>request.Options.Set(AccessTokenHandler.AccountOption, account)</c>): one client for every account.
    /// </summary>
    /// <param name="builder">The client's builder (<c>services.AddHttpClient(...)</c>).</param>
    /// <param name="scopes">Scopes the token must cover; null for the account's own.</param>
    /// <param name="allowedOrigins">
    /// The origins (such as <c>https://api.example.com</c>) the token may go to, checked when the client is registered;
    /// null for any https origin, or http one on loopback (<see cref="AccessTokenHandler.AllowedOrigins"/>).
    /// </param>
    /// <remarks>A request that names no account fails before it is sent, with <see cref="InvalidOperationException"/>.</remarks>
    public static IHttpClientBuilder AddOAuthAccessToken(this IHttpClientBuilder builder, IReadOnlyList<string>? scopes = null,
        IReadOnlyCollection<Uri>? allowedOrigins = null) =>
        builder.AddOAuthAccessToken((_, _) => throw new InvalidOperationException(
            "This client calls as the account each request names, and this request names none: set AccessTokenHandler.AccountOption in its Options."),
            scopes, allowedOrigins);

    /// <summary>The service key of a client's handler memory (a key of O8Actors' own, so no app's keyed service is taken).</summary>
    private static string MemoryKey(string clientName) => "O8Actors.AccessTokenHandler:" + clientName;

    private static async ValueTask<OAuthAccount> OnlyAccountAsync(IServiceProvider services, string provider, CancellationToken cancellationToken)
    {
        // In server mode the accounts are the web users': "the only one" is whoever connected first, and every other
        // user's (or an anonymous visitor's) request would carry that user's token until a second one connects.
        var started = await services.GetRequiredService<O8Runtime>().GetAsync(cancellationToken).ConfigureAwait(false);
        if (started.Options.Listener.ExternalRedirectUri is not null)
            throw new InvalidOperationException(
                $"AddOAuthAccessToken(\"{provider}\") without an account key calls as the provider's only account, which in server mode " +
                "(O8:Listener:ExternalRedirectUri is set) is whichever web user signed in first. Name the account for each request: " +
                "AddOAuthAccessToken((services, ct) => the signed-in user's account), or give the app's own account's key.");
        var accounts = await services.GetRequiredService<IOAuthLogins>().GetAccountsAsync(provider, cancellationToken).ConfigureAwait(false);
        return accounts.Count switch
        {
            1 => accounts[0],
            0 => throw new InvalidOperationException(
                $"No account of provider '{provider}' is signed in: sign in first (RunAsync or AuthorizeAsync), then call the API."),
            _ => throw new InvalidOperationException(
                $"{accounts.Count} accounts of provider '{provider}' are signed in: name the one to call as with AddOAuthAccessToken's accountKey."),
        };
    }
}
