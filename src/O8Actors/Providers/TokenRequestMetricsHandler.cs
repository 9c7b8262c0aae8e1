using System.Diagnostics;
using O8Actors.Diagnostics;

namespace O8Actors.Providers;

/// <summary>
/// Records <c>o8.token_exchange.duration</c> for every token request (a POST) the providers' HTTP client sends,
/// tagged <c>provider</c> (the token endpoint's host, since one client serves every provider) and <c>result</c>
/// (<c>ok</c>, <c>http_4xx</c>, <c>http_5xx</c> or the exception type). It sits outside the resilience pipeline, so
/// the latency is what the login waited, timeouts included. Nothing of the request or response body is read.
/// </summary>
/// <remarks>
/// While nothing listens to the instrument (no <c>MeterListener</c>, no OpenTelemetry metrics), a request passes
/// straight through: an app that collects no metrics does not pay a clock, a tag and an async layer per token request.
/// </remarks>
internal sealed class TokenRequestMetricsHandler : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        request.Method == HttpMethod.Post && O8Metrics.TokenExchangeDuration.Enabled
            ? SendRecordedAsync(request, cancellationToken)
            : base.SendAsync(request, cancellationToken);

    private async Task<HttpResponseMessage> SendRecordedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var provider = new KeyValuePair<string, object?>("provider", request.RequestUri?.Host ?? "unknown");
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var result = code switch { < 400 => "ok", < 500 => "http_4xx", _ => "http_5xx" };
            O8Metrics.TokenExchangeDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, provider, new("result", result));
            return response;
        }
        catch (Exception ex)
        {
            O8Metrics.TokenExchangeDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, provider, new("result", ex.GetType().Name));
            throw;
        }
    }
}
