using Akka.Event;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using O8Actors.Callback;
using O8Actors.Configuration;

namespace O8Actors.Hosting;

/// <summary>Server mode: the OAuth callback served by the host app's own ASP.NET Core pipeline.</summary>
public static class OAuthCallbackEndpoint
{
    /// <summary>
    /// Maps <c>GET <paramref name="pattern"/></c> and the providers' own redirect paths under it (<c>pattern/github</c>) to
    /// O8Actors: the request is routed by its <c>state</c> to the login that is waiting for it, exactly as the loopback
    /// listener does, and answered with the same pages and headers. A login accepts its callback only on its provider's path.
    /// Requires <c>O8:Listener:ExternalRedirectUri</c> whose path equals <paramref name="pattern"/>.
    /// </summary>
    /// <remarks>
    /// Each login started by <see cref="IOAuthConnector"/> belongs to the browser that started it: the callback reads the
    /// <c>__Host-o8-login-{loginId}</c> cookies, and a callback without its login's secret ends that login as
    /// <see cref="LoginFailure.BrowserMismatch"/> (page 400), its code never used. Apps that keep the secret in their own
    /// session use <see cref="MapOAuthCallback(IEndpointRouteBuilder, string, Action{OAuthCallbackOptions})"/>. The routes
    /// allow anonymous requests whatever the app's fallback authorization policy: the browser coming back is not signed in
    /// to the app yet, and the callback authenticates itself (its state and its browser's binding).
    /// </remarks>
    /// <exception cref="InvalidOperationException">Server mode is not configured, or the paths differ (a URI path that ends with the pattern is taken as the app's path base followed by it: a request that then comes without that base is answered 404, and the first such request is logged as a warning).</exception>
    public static IEndpointConventionBuilder MapOAuthCallback(this IEndpointRouteBuilder endpoints, string pattern = "/oauth/callback") =>
        endpoints.MapOAuthCallback(pattern, _ => { });

    /// <summary>
    /// Like <see cref="MapOAuthCallback(IEndpointRouteBuilder, string)"/>, with <paramref name="configure"/> choosing how
    /// the browser bindings are read (for example from the app's session: <see cref="OAuthCallbackOptions.BrowserSecrets"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">Server mode is not configured, or the paths differ (a URI path that ends with the pattern is taken as the app's path base followed by it: a request that then comes without that base is answered 404, and the first such request is logged as a warning).</exception>
    public static IEndpointConventionBuilder MapOAuthCallback(this IEndpointRouteBuilder endpoints, string pattern, Action<OAuthCallbackOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(configure);
        var callbackOptions = new OAuthCallbackOptions();
        configure(callbackOptions);
        var browserSecrets = callbackOptions.BrowserSecrets ?? BrowserBindingCookie.Read;
        var signedOutRedirect = LocalPath(callbackOptions.SignedOutRedirect, nameof(OAuthCallbackOptions.SignedOutRedirect), nameof(configure));
        var signedInRedirect = LocalPath(callbackOptions.SignedInRedirect, nameof(OAuthCallbackOptions.SignedInRedirect), nameof(configure));
        var failedRedirect = LocalPath(callbackOptions.SignInFailedRedirect, nameof(OAuthCallbackOptions.SignInFailedRedirect), nameof(configure));
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var services = endpoints.ServiceProvider;
        var runtime = services.GetService<O8Runtime>()
            ?? throw new InvalidOperationException("MapOAuthCallback needs services.AddOAuthLogins(...) and WithOAuthLogins() in AddAkka.");
        var options = services.GetRequiredService<IOptions<O8Options>>().Value;
        var external = options.Listener.ExternalRedirectUri
            ?? throw new InvalidOperationException(
                "MapOAuthCallback is for server mode: set O8:Listener:ExternalRedirectUri to the public URI of this endpoint (for example https://app.example.com" + pattern + ").");
        // The path requests arrive with, path base included (CallbackRequestHandler reads PathBase + Path).
        var callbackPath = O8Actors.Callback.RedirectPaths.RequestPathOf(external);
        if (!UnderPathBase(callbackPath, pattern))
            throw new InvalidOperationException(
                $"O8:Listener:ExternalRedirectUri has path '{external.AbsolutePath}' but the callback is mapped at '{pattern}'; they must be equal " +
                "(exact redirect matching), or the URI's path must be the app's path base followed by the pattern (UsePathBase).");

        CallbackRequestHandler? handler = null;
        var pathBaseWarned = 0;
        RequestDelegate handle = async context =>
        {
            var started = await runtime.GetAsync(context.RequestAborted).ConfigureAwait(false);
            WarnOnceWithoutThePathBase(context, callbackPath, pattern, started, ref pathBaseWarned);
            // The host's pipeline (AllowedHosts, HTTPS redirection) polices the Host header here, not the loopback rule.
            // With a route (O8Actors.Cluster) the callback goes to it, which finds the login on whichever node holds it.
            var target = await started.Route.ConfigureAwait(false) ?? started.Actors.Listener;
            handler ??= new CallbackRequestHandler(target, callbackPath,
                O8Actors.Providers.ExchangeTimeouts.BrowserWait(started.Options.Login.ExchangeTimeout),
                Logging.GetLogger(started.System, "O8Actors.ServerModeCallback"), checkLoopbackHost: false, browserSecrets,
                systemEnd: started.Client.SystemEnd,
                onAnswer: (http, page) =>
                {
                    var landing = page.Kind switch
                    {
                        CallbackPageKind.Success when page.LoginId is not null => WithLoginId(signedInRedirect, page.LoginId),
                        CallbackPageKind.Denied or CallbackPageKind.Failed when page.LoginId is not null => WithLoginId(failedRedirect, page.LoginId),
                        _ => null,
                    };
                    // A landing page must still tell the browser that started the login from one that was only sent the
                    // landing URL (o8_login is public): the cookie goes there with it, and OAuthLanding.ClaimLogin expires it.
                    if (landing is not null) BrowserBindingCookie.KeepForLanding(http, page.LoginId);
                    else BrowserBindingCookie.DeleteIfPresent(http, page.LoginId);
                    var redirect = page.Kind == CallbackPageKind.SignedOut ? signedOutRedirect : landing;
                    return redirect is null ? page : page with { RedirectTo = UnderThisApp(http, redirect) };
                });
            await handler.HandleAsync(context).ConfigureAwait(false);
        };
        // The callback path and every provider's own redirect path under it (pattern/github, ...): one route group, so
        // the caller's conventions (rate limiting, host filtering) apply to both.
        // Anonymous: the browser coming back is not signed in to the app yet (the login is how it signs in), or its
        // SameSite=Strict cookie stayed behind on the provider's cross-site redirect; an app's fallback policy would
        // challenge it, and the code would wait in the login page's ReturnUrl until the login timed out. The callback
        // authenticates itself: its state, and the browser-binding cookie of the browser that began the login.
        var group = endpoints.MapGroup("").AllowAnonymous();
        group.MapMethods(pattern, [HttpMethods.Get, HttpMethods.Head], handle).WithDisplayName("O8Actors OAuth callback");
        group.MapMethods(pattern.TrimEnd('/') + "/{**o8RedirectPath}", [HttpMethods.Get, HttpMethods.Head], handle)
            .WithDisplayName("O8Actors OAuth callback (provider redirect paths)");
        return group;
    }

    /// <summary>
    /// A request the mapped route took whose path base and path together are not under the redirect path: the path base
    /// the check at map time took the URI's prefix for is missing (no <c>UsePathBase</c>, or a proxy that strips its
    /// prefix), so every provider redirect is answered 404 and every login times out. Said once, at Warning: the
    /// per-request 404 is logged at Debug only (any local process may send junk).
    /// </summary>
    private static void WarnOnceWithoutThePathBase(HttpContext context, string callbackPath, string pattern, O8Runtime.Started started, ref int warned)
    {
        if (!MissesItsPathBase(context.Request, callbackPath) || Interlocked.Exchange(ref warned, 1) == 1) return;
        Logging.GetLogger(started.System, "O8Actors.ServerModeCallback").Warning(
            "A request reached the OAuth callback mapped at '{0}' with path base '{1}', outside O8:Listener:ExternalRedirectUri's path '{2}', " +
            "and was answered 404. If the provider's redirects arrive this way, the app lacks the path base the URI's prefix stands for " +
            "(app.UsePathBase, or a proxy that keeps its prefix), or the URI and the mapping must name the same path. Said once.",
            pattern, context.Request.PathBase.Value ?? "", callbackPath);
    }

    /// <summary>
    /// Whether <paramref name="request"/>, which the callback's route took, is a provider's redirect that misses the path
    /// base of <paramref name="callbackPath"/>: its base and path together are outside it, and its <c>state</c> has the
    /// shape of a login's (256 random bits, after a cluster's routing prefix). A request without such a state is junk
    /// (a scanner; any client of a public app), which an app with the right path base also gets: not worth a warning.
    /// </summary>
    internal static bool MissesItsPathBase(HttpRequest request, string callbackPath)
    {
        if (O8Actors.Callback.RedirectPaths.IsWithin(callbackPath, request.PathBase.Add(request.Path).Value)) return false;
        var state = request.Query["state"].ToString();
        return O8Actors.Flows.FlowSecrets.IsToken(state.AsSpan(state.LastIndexOf('.') + 1), 32);
    }

    /// <summary>
    /// Whether <paramref name="callbackPath"/> is <paramref name="pattern"/>, or a path base (<c>/app</c>) followed by it:
    /// an app under <c>UsePathBase</c> maps its routes without the base, and its redirect URI carries it.
    /// </summary>
    private static bool UnderPathBase(string callbackPath, string pattern)
    {
        if (string.Equals(callbackPath, pattern, StringComparison.Ordinal)) return true;
        if (!pattern.StartsWith('/') || !callbackPath.EndsWith(pattern, StringComparison.Ordinal)) return false;
        var pathBase = callbackPath[..^pattern.Length];
        return pathBase.Length > 1 && pathBase[0] == '/' && pathBase[^1] != '/';
    }

    /// <summary><paramref name="path"/> when it is null or a path of this app (<see cref="IsLocalPath"/>).</summary>
    /// <exception cref="ArgumentException">It is neither.</exception>
    private static string? LocalPath(string? path, string option, string parameter) =>
        path is null || IsLocalPath(path.StartsWith(AppRelative, StringComparison.Ordinal) ? path[1..] : path)
            ? path
            : throw new ArgumentException(
                $"OAuthCallbackOptions.{option} must be a path of this app (such as '/' or '~/'), not '{path}': the callback never sends a browser off the app.",
                parameter);

    /// <summary>ASP.NET Core's mark of a path relative to the app (<c>LocalRedirect("~/...")</c>): the path base goes before it.</summary>
    private const string AppRelative = "~/";

    /// <summary>
    /// <paramref name="path"/> as the browser is sent to it: a <c>~/</c> path gets the request's path base in front (the
    /// app behind a proxy at <c>/app</c>). Only a request whose base and path together are the redirect path is answered,
    /// so the base is a beginning of that path, and the result a path of this app.
    /// </summary>
    private static string UnderThisApp(HttpContext http, string path) =>
        path.StartsWith(AppRelative, StringComparison.Ordinal) ? http.Request.PathBase.ToUriComponent() + path[1..] : path;

    /// <summary>
    /// <paramref name="path"/> with the login's id in its query (<see cref="OAuthLanding.LoginIdParameter"/>), so the
    /// app's page can find the login (and must then claim it: <see cref="OAuthLanding.ClaimLogin(HttpContext, PendingLogin)"/>).
    /// </summary>
    private static string? WithLoginId(string? path, string loginId) =>
        // Into the query, before a fragment (AddQueryString keeps it last): a browser never sends the fragment.
        path is null ? null : Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(path, OAuthLanding.LoginIdParameter, loginId);

    /// <summary>
    /// A path of this app: one leading <c>/</c>, not <c>//host</c> nor <c>/\host</c> (which browsers read as another host),
    /// in printable ASCII (a <c>Location</c> header carries nothing else: Kestrel refuses the response, and every sign-out
    /// return would end in a 500 after the provider's session was already ended; percent-encode other characters).
    /// </summary>
    private static bool IsLocalPath(string path) =>
        path.Length > 0 && path[0] == '/' && (path.Length == 1 || (path[1] != '/' && path[1] != '\\')) && path.All(c => c is > ' ' and < '\u007f');
}
