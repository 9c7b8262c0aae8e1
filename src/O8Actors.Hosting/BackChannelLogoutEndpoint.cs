using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using O8Actors.Diagnostics;

namespace O8Actors.Hosting;

/// <summary>How <see cref="BackChannelLogoutEndpoint.MapOAuthBackChannelLogout(IEndpointRouteBuilder, string, Action{BackChannelLogoutOptions})"/> answers.</summary>
public sealed class BackChannelLogoutOptions
{
    /// <summary>
    /// Called after the accounts of the ended session were signed out and before the provider is answered 200: an app
    /// that keeps sessions of its own (a cookie per user, a server-side session store) ends here the ones the token names
    /// (<see cref="BackChannelLogoutResult.Token"/>'s subject or session id; called also when O8Actors held no tokens of
    /// them, so <see cref="BackChannelLogoutResult.SignedOut"/>, what O8Actors revoked, is empty, and also when O8Actors' own
    /// part failed, an account or the token store not answering: the app's sessions do not hang on O8Actors' tokens, and
    /// a provider that posts a token once would give no other chance; the answer is then a 500 all the same). An exception makes the answer a 500, so the provider learns
    /// that the logout did not complete; the token is then not spent, and when the provider posts it again this is called
    /// again with the accounts the failed attempt signed out (those kept by this process). Null: O8Actors' own accounts only.
    /// Its <see cref="CancellationToken"/> is not the provider's request's but the actor system's end: once the token is
    /// accepted the logout is carried out to its end, this part included, even when the provider stops waiting (many
    /// providers never post again); its outcome is then logged (category <c>O8Actors.BackChannelLogout</c>).
    /// </summary>
    public Func<BackChannelLogoutResult, CancellationToken, Task>? OnSignedOut { get; set; }
}

/// <summary>Server mode: the provider's back-channel logout requests (OpenID Connect Back-Channel Logout 1.0), served by the app's own pipeline.</summary>
public static class BackChannelLogoutEndpoint
{
    /// <summary>The largest request accepted: a logout token is a few hundred bytes; the form parser stops reading past this.</summary>
    public const int MaxRequestBytes = 16 * 1024;

    // Seconds a provider is asked to wait before posting again a token whose earlier post is still being carried out.
    private const string RetryInProgressAfter = "5";

    /// <summary>
    /// A refusal the app has to fix (<see cref="BackChannelLogoutFailure.NotSupported"/>, <see cref="BackChannelLogoutFailure.Failed"/>)
    /// is logged as a Warning at most once per provider in this time; the others at Debug.
    /// </summary>
    internal static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Maps <c>POST <paramref name="pattern"/>/{provider}</c>: register <c>https://your.app<paramref name="pattern"/>/{provider}</c>
    /// as the client's <c>backchannel_logout_uri</c> at each provider (with <c>backchannel_logout_session_required</c> where
    /// offered, so its logout tokens name the session). The form's <c>logout_token</c> goes to
    /// <see cref="IOAuthLogins.HandleBackChannelLogoutAsync"/>: validated, replays refused, and the session's accounts
    /// signed out. Answers 200 (with <c>Cache-Control: no-store</c>) when done, also when no account held that session;
    /// 400 with a JSON <c>error</c> (<c>invalid_request</c>) and <c>error_description</c> (a fixed text per reason, which
    /// never quotes the token nor tells which check failed: that goes to the log, category <c>O8Actors.BackChannelLogout</c>) for
    /// a token refused, a request that is not a form POST or holds <c>logout_token</c> other than once; 404 for an unknown
    /// provider; 413 past <see cref="MaxRequestBytes"/> (declared or not); 500 with the <c>error</c> <c>server_error</c>
    /// when the logout could not be completed (the provider's metadata or key set could not be read, a token under a key id
    /// the set lacks while its refetch is not allowed yet, the replay check or an account did not answer,
    /// <see cref="BackChannelLogoutOptions.OnSignedOut"/> threw): the token is then not spent, and the provider may post it
    /// again (anyone can post a token naming an unknown key id, so a 500 alone is no sign of a fault: the Warning is
    /// logged once per provider per five minutes); 503 with the <c>error</c> <c>temporarily_unavailable</c> and a <c>Retry-After</c>
    /// for a token posted again while its earlier post is still being carried out (that one may yet fail, so this is not
    /// a replay yet). Every answer has <c>Cache-Control: no-store</c>.
    /// </summary>
    /// <remarks>
    /// The provider calls it server to server: it carries no cookie and needs none (no antiforgery token, no browser
    /// binding); what authenticates it is the provider's signature on the logout token. So it allows anonymous requests
    /// (an app's fallback authorization policy does not apply to it) and takes no antiforgery check; keep it reachable
    /// from the provider.
    /// </remarks>
    /// <exception cref="InvalidOperationException">O8Actors is not registered (<c>AddOAuthLogins</c>).</exception>
    public static IEndpointConventionBuilder MapOAuthBackChannelLogout(this IEndpointRouteBuilder endpoints, string pattern = "/oauth/backchannel-logout") =>
        endpoints.MapOAuthBackChannelLogout(pattern, _ => { });

    /// <summary>Like <see cref="MapOAuthBackChannelLogout(IEndpointRouteBuilder, string)"/>, with <paramref name="configure"/> choosing what else ends with the session.</summary>
    /// <exception cref="InvalidOperationException">O8Actors is not registered (<c>AddOAuthLogins</c>).</exception>
    public static IEndpointConventionBuilder MapOAuthBackChannelLogout(this IEndpointRouteBuilder endpoints, string pattern,
        Action<BackChannelLogoutOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new BackChannelLogoutOptions();
        configure(options);
        var services = endpoints.ServiceProvider;
        var logins = services.GetService<HostedOAuthLogins>()
            ?? throw new InvalidOperationException("MapOAuthBackChannelLogout needs services.AddOAuthLogins(...) and WithOAuthLogins() in AddAkka.");
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger("O8Actors.BackChannelLogout") ?? NullLogger.Instance;
        var warnings = new ThrottledWarnings(services.GetService<TimeProvider>() ?? TimeProvider.System, WarningInterval);
        var onSignedOut = options.OnSignedOut;

        // The provider's server posts here with no user and no cookie: an app whose fallback policy requires a signed-in
        // user would answer it 401 or a redirect to its login page, and users would silently stay signed in. What
        // authenticates the post is the logout token's signature; nor is there a form of the app to carry an antiforgery token.
        return endpoints.MapPost(pattern.TrimEnd('/') + "/{provider}", (HttpContext context) => HandleAsync(context, logins, onSignedOut, logger, warnings))
            .WithDisplayName("O8Actors back-channel logout")
            .AllowAnonymous()
            .DisableAntiforgery();
    }

    private static async Task HandleAsync(HttpContext context, HostedOAuthLogins logins, Func<BackChannelLogoutResult, CancellationToken, Task>? onSignedOut,
        ILogger logger, ThrottledWarnings warnings)
    {
        // Section 2.8: the answer must not be cached.
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        var provider = context.Request.RouteValues["provider"] as string ?? "";
        var request = context.Request;
        if (request.ContentLength > MaxRequestBytes)
        {
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, $"The request is larger than {MaxRequestBytes} bytes.", "too_large").ConfigureAwait(false);
            return;
        }
        if (!string.Equals(request.ContentType?.Split(';')[0].Trim(), "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "A back-channel logout is a form POST (application/x-www-form-urlencoded).", "not_a_form").ConfigureAwait(false);
            return;
        }

        IFormCollection form;
        try
        {
            // A body without a Content-Length (chunked) is stopped at the same size by the server, where it can be told
            // (Kestrel, IIS); the form limits alone let 16 values of 16 KiB each through.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
                bodySize.MaxRequestBodySize = MaxRequestBytes;
            // The form limits bound what a request the server does not limit can make the parser buffer.
            context.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions
            {
                ValueLengthLimit = MaxRequestBytes, KeyLengthLimit = 64, ValueCountLimit = 16, BufferBody = false,
            }));
            form = await request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, $"The request is larger than {MaxRequestBytes} bytes.", "too_large").ConfigureAwait(false);
            return;
        }
        catch (InvalidDataException)
        {
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, $"The form exceeds its limits ({MaxRequestBytes} bytes a value, 16 values).", "too_large").ConfigureAwait(false);
            return;
        }

        var tokens = form["logout_token"];
        if (tokens.Count != 1 || string.IsNullOrEmpty(tokens[0]))
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest,
                tokens.Count > 1 ? "logout_token was sent more than once." : "The form has no logout_token.", "malformed").ConfigureAwait(false);
            return;
        }

        BackChannelLogoutResult result;
        try
        {
            // The app's part runs inside: should it throw, the token is not spent and the provider's retry (after the 500)
            // is carried out, reporting the accounts this attempt signed out (Back-Channel Logout 1.0 sections 2.7-2.8).
            result = await logins.HandleBackChannelLogoutAsync(provider, tokens[0]!, onSignedOut, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BackChannelLogoutException refused)
        {
            // Debug for a bad token (invalid, replayed): anyone who can reach the endpoint can post one as fast as they like,
            // and a Warning line each would let them flood the app's log; the metric counts them by reason. Where the app
            // has something to fix (the provider cannot check tokens: no key set; or its metadata or key set could not be
            // read) anyone's post sets it off just as well, "logout_token=x" included: one Warning per provider per
            // WarningInterval tells the app, the rest go to Debug.
            var level = refused.Failure is BackChannelLogoutFailure.NotSupported or BackChannelLogoutFailure.Failed
                ? warnings.LevelFor(provider)
                : LogLevel.Debug;
            logger.Log(level, "Back-channel logout from provider {Provider} refused ({Failure}): {Reason}", provider, refused.Failure, refused.Message);
            // Failed is this server's fault, not the request's (the provider's metadata or key set could not be read, the
            // jti check did not answer): a 400 would tell the provider not to post the token again, and the user would
            // stay signed in. The 500 asks for the retry, which is carried out (nothing was spent, section 2.8).
            if (refused.Failure == BackChannelLogoutFailure.Failed)
                await RefuseAsync(context, StatusCodes.Status500InternalServerError, Describe(refused.Failure), ReasonTag(refused.Failure), error: "server_error")
                    .ConfigureAwait(false);
            else if (refused.Failure == BackChannelLogoutFailure.InProgress)
            {
                // An earlier post of the token is still running and may yet fail: a 400 would tell the provider never to
                // post it again, and should that post fail its 500 goes to a connection the provider has given up on.
                context.Response.Headers.RetryAfter = RetryInProgressAfter;
                await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, Describe(refused.Failure), ReasonTag(refused.Failure), error: "temporarily_unavailable")
                    .ConfigureAwait(false);
            }
            else
                await RefuseAsync(context, StatusCodes.Status400BadRequest, Describe(refused.Failure), ReasonTag(refused.Failure)).ConfigureAwait(false);
            return;
        }
        catch (UnknownProviderException)
        {
            await RefuseAsync(context, StatusCodes.Status404NotFound, "No provider of this name is registered here.", "unknown_provider").ConfigureAwait(false);
            return;
        }
        catch (Exception failed) when (!(failed is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            // Not carried out (an account or the store did not answer in time, or the app's OnSignedOut threw): the token
            // stays unspent and the 500 asks the provider to post it again (sections 2.7-2.8). Answered here, not left to the
            // server, whose bare 500 drops the no-store above. The exception's text (O8Actors' never quotes the token, and
            // the app's part never sees it) goes to the log only: the provider learns that the logout failed, not why.
            logger.LogWarning(failed, "Back-channel logout from provider {Provider} failed ({Error}); the provider may post the token again", provider,
                failed.GetType().Name);
            await RefuseAsync(context, StatusCodes.Status500InternalServerError, NotCompleted, "error", error: "server_error").ConfigureAwait(false);
            return;
        }

        logger.LogInformation("Back-channel logout from provider {Provider}: {Count} account(s) signed out", provider, result.SignedOut.Count);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private const string NotCompleted = "The logout could not be completed; the logout token may be posted again.";

    /// <summary>
    /// What the caller is told of a refusal: a fixed text per reason. The exception's message is for the app's log only:
    /// it names the check that failed, the key set's URL or the host that did not answer, and anyone may post here
    /// (one token with an unknown key id got the key set's URL back).
    /// </summary>
    private static string Describe(BackChannelLogoutFailure failure) => failure switch
    {
        BackChannelLogoutFailure.InvalidToken => "The logout token failed validation. No account was signed out.",
        BackChannelLogoutFailure.Replayed => "A logout token with this jti was already carried out (a replay). No account was signed out.",
        BackChannelLogoutFailure.NotSupported => "Logout tokens from this provider cannot be checked here. No account was signed out.",
        BackChannelLogoutFailure.InProgress => "An earlier post of this logout token is still being carried out; post it again later if that one does not complete.",
        _ => NotCompleted,
    };

    private static string ReasonTag(BackChannelLogoutFailure failure) => failure switch
    {
        BackChannelLogoutFailure.InvalidToken => "invalid_token",
        BackChannelLogoutFailure.Replayed => "replayed",
        BackChannelLogoutFailure.NotSupported => "not_supported",
        BackChannelLogoutFailure.InProgress => "in_progress",
        _ => "failed",
    };

    private static async Task RefuseAsync(HttpContext context, int status, string description, string reason, string error = "invalid_request")
    {
        O8Metrics.BackChannelLogoutsRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("error", error);
        json.WriteString("error_description", description);
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
