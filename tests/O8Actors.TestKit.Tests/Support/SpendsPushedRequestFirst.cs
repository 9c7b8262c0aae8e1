using System.Text.Json;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>
/// Plays a browser of the app's own that is faster than anyone watching the login's events: on the HTTP client of the
/// orchestrator, it opens the pushed request's authorize URL (RFC 9126) at the sandbox as soon as the push is answered,
/// before the login has even published that URL, so the <c>request_uri</c> is spent by then. The redirect it gets is not
/// followed. Register it with <c>AddHttpClient(OAuthLogins.HttpClientName).AddHttpMessageHandler(...)</c>.
/// </summary>
/// <param name="clientId">The client the request was pushed for (only that client may spend it).</param>
internal sealed class SpendsPushedRequestFirst(Func<string> clientId) : DelegatingHandler
{
    private int _spent;

    /// <summary>How many pushed requests it has spent.</summary>
    public int Spent => Volatile.Read(ref _spent);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.RequestUri is not { AbsolutePath: "/par" } pushEndpoint || !response.IsSuccessStatusCode) return response;

        await response.Content.LoadIntoBufferAsync(cancellationToken);
        using var pushed = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var requestUri = pushed.RootElement.GetProperty("request_uri").GetString()!;
        var authorize = new Uri(pushEndpoint,
            $"/authorize?client_id={Uri.EscapeDataString(clientId())}&request_uri={Uri.EscapeDataString(requestUri)}");
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var answer = await browser.GetAsync(authorize, cancellationToken);
        // The sandbox redirects only a request_uri it has just redeemed; anything else means nothing was spent.
        if ((int)answer.StatusCode is 302 or 303) Interlocked.Increment(ref _spent);
        return response;
    }
}
