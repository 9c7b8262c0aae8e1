using Microsoft.AspNetCore.Http;

namespace O8Actors.Callback;

/// <summary>Writes a callback page with the security headers every listener response carries, whatever its status.</summary>
internal static class CallbackHttpResponder
{
    /// <summary>The Content-Security-Policy of every page: nothing may load, nothing may frame it, no form may post.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    // The fixed pages are rendered once: stray requests (favicons, preconnects) and the success page of every login
    // cost no rendering.
    private static readonly byte[] SignedInBody = CallbackPages.RenderUtf8(CallbackPages.SignedIn);
    private static readonly byte[] NotFoundBody = CallbackPages.RenderUtf8(CallbackPages.NotFound);
    private static readonly byte[] MethodNotAllowedBody = CallbackPages.RenderUtf8(CallbackPages.MethodNotAllowed);
    private static readonly byte[] UnknownStateBody = CallbackPages.RenderUtf8(CallbackPages.UnknownState);
    private static readonly byte[] HostNotLoopbackBody = CallbackPages.RenderUtf8(CallbackPages.HostNotLoopback);
    private static readonly byte[] MalformedBody = CallbackPages.RenderUtf8(CallbackPages.Malformed);

    /// <summary>Writes <paramref name="page"/> as the response.</summary>
    public static Task WriteAsync(HttpContext context, CallbackResponse page, CancellationToken ct)
    {
        var response = context.Response;
        response.StatusCode = page.StatusCode;
        var headers = response.Headers;
        headers.CacheControl = "no-store";
        headers.Pragma = "no-cache";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.ContentType = "text/html; charset=utf-8";
        if (page.StatusCode == StatusCodes.Status405MethodNotAllowed) headers.Allow = "GET";
        if (page.RedirectTo is { } location)
        {
            // The app's own page takes over (server mode's SignedOutRedirect): no body, the same headers.
            response.StatusCode = StatusCodes.Status303SeeOther;
            headers.Location = location;
            response.ContentLength = 0;
            return Task.CompletedTask;
        }
        var body = CachedBody(page) ?? CallbackPages.RenderUtf8(page);
        response.ContentLength = body.Length;
        // HEAD gets the headers only; Kestrel would discard the body anyway.
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, 0, body.Length, ct);
    }

    private static byte[]? CachedBody(CallbackResponse page)
    {
        // A login's page is a copy naming the login (server mode clears its cookie); the body is the same.
        if (page.Kind == CallbackPageKind.Success && ReferenceEquals(page.Detail, CallbackPages.SignedIn.Detail)) return SignedInBody;
        if (ReferenceEquals(page, CallbackPages.NotFound)) return NotFoundBody;
        if (ReferenceEquals(page, CallbackPages.MethodNotAllowed)) return MethodNotAllowedBody;
        if (ReferenceEquals(page, CallbackPages.UnknownState)) return UnknownStateBody;
        if (ReferenceEquals(page, CallbackPages.HostNotLoopback)) return HostNotLoopbackBody;
        if (ReferenceEquals(page, CallbackPages.Malformed)) return MalformedBody;
        return null;
    }
}
