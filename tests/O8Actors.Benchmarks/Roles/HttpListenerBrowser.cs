using System.Net;
using System.Text;
using Duende.IdentityModel.OidcClient.Browser;

namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// The peer's loopback listener as OidcClient's manual-mode sample writes it: an <see cref="HttpListener"/> on the
/// login's redirect URI, hand the start URL to the browser, take one request, stop. Shared by both settings' peer sides.
/// </summary>
/// <param name="prefix">The login's redirect URI (its own free port).</param>
/// <param name="handOut">How the start URL reaches the browser (the driver's wire, or the app's stdout).</param>
/// <param name="wait">The most to wait for the callback, on top of the caller's cancellation; null waits for that alone.</param>
internal sealed class HttpListenerBrowser(string prefix, Action<string> handOut, TimeSpan? wait = null) : IBrowser
{
    /// <summary>The page both peers' listeners answer with.</summary>
    public static readonly byte[] Page = Encoding.UTF8.GetBytes("<!DOCTYPE html><html><body>You can close this tab.</body></html>");

    public async Task<BrowserResult> InvokeAsync(BrowserOptions options, CancellationToken cancellationToken = default)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add(prefix);
        listener.Start();
        handOut(options.StartUrl);
        var waiting = listener.GetContextAsync();
        var context = wait is { } most ? await waiting.WaitAsync(most, cancellationToken) : await waiting.WaitAsync(cancellationToken);
        var raw = context.Request.Url!.AbsoluteUri;
        context.Response.ContentType = "text/html";
        context.Response.ContentLength64 = Page.Length;
        await context.Response.OutputStream.WriteAsync(Page, cancellationToken);
        context.Response.Close();
        listener.Stop();
        return new BrowserResult { Response = raw, ResultType = BrowserResultType.Success };
    }
}
