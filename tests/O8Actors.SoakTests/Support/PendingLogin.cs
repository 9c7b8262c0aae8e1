using System.Buffers.Text;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.TestKit;

namespace O8Actors.SoakTests.Support;

/// <summary>
/// A live login whose user has approved at the authorization server but whose browser has not yet come back: the
/// callback URL (with a real code and state) is held by the test. <see cref="LandAsync"/> delivers it.
/// </summary>
internal sealed class PendingLogin
{
    private PendingLogin(string subject, Task<LoginOutcome> outcome, Uri callbackUrl)
    {
        Subject = subject;
        Outcome = outcome;
        CallbackUrl = callbackUrl;
        var query = QueryHelpers.ParseQuery(callbackUrl.Query);
        State = query["state"].ToString();
        Code = query["code"].ToString();
        Issuer = query["iss"].ToString();
    }

    /// <summary>The user the sandbox signed in; the login's ID token must name this subject and no other.</summary>
    public string Subject { get; }

    /// <summary>The caller's view of the login.</summary>
    public Task<LoginOutcome> Outcome { get; }

    /// <summary>Where the browser would land (carries the code).</summary>
    public Uri CallbackUrl { get; }

    public string State { get; }

    public string Code { get; }

    public string Issuer { get; }

    /// <summary>The callback's path and query, as a browser would send it.</summary>
    public string Target => CallbackUrl.PathAndQuery;

    /// <summary>Starts a login through <paramref name="o8"/> and walks the user through approval, stopping short of the callback.</summary>
    public static async Task<PendingLogin> StartAsync(O8TestHarness o8, HeldBrowser browser, HttpClient authorizationServer,
        string subject, TimeSpan? timeout = null)
    {
        var request = o8.Request(LoginScript.Approve(subject), timeout ?? TimeSpan.FromMinutes(2));
        var tag = request.Parameters["login_hint"];
        var outcome = o8.Logins.RunAsync(o8.ProviderName, request);
        var authorizeUrl = await browser.AuthorizeUrlAsync(tag, TimeSpan.FromSeconds(30));
        using var response = await authorizationServer.GetAsync(authorizeUrl);
        if (response.StatusCode != HttpStatusCode.Found || response.Headers.Location is null)
            throw new InvalidOperationException($"The sandbox did not redirect login {tag}: HTTP {(int)response.StatusCode}");
        return new PendingLogin(subject, outcome, response.Headers.Location);
    }

    /// <summary>An HTTP client for the sandbox's authorize endpoint that does not follow redirects (the test holds them).</summary>
    public static HttpClient AuthorizationServerClient() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The browser comes back: GET the callback on a fresh connection.</summary>
    public Task<RawResponse> LandAsync(RawHttp listener) => listener.GetAsync(Target);

    /// <summary>The <c>sub</c> claim of an ID token (signature checked by the sandbox elsewhere; here only who it names).</summary>
    public static string? SubjectOf(string? idToken)
    {
        if (idToken is null) return null;
        var parts = idToken.Split('.');
        if (parts.Length != 3) return null;
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        return payload.RootElement.TryGetProperty("sub", out var sub) ? sub.GetString() : null;
    }
}
