using System.Diagnostics;
using O8Actors.Diagnostics;

namespace O8Actors.Providers;

/// <summary>
/// Records <c>o8.token_exchange.duration</c> for every POST the providers' HTTP client sends, tagged <c>provider</c>
/// (the endpoint's host, since one client serves every provider), <c>operation</c> (<c>code_exchange</c>,
/// <c>refresh</c>, <c>device_poll</c>, <c>device_authorization</c>, <c>pushed_authorization</c>, <c>revocation</c>; a
/// custom strategy's own POST: <c>other</c>) and <c>result</c> (<c>ok</c>, <c>http_4xx</c>, <c>http_5xx</c> or the
/// exception type). Without the operation a device login's polls (<c>authorization_pending</c> is a 400) and a sign-out's
/// revocations read as failed token exchanges. It sits outside the resilience pipeline, so the latency is what the login
/// waited, timeouts included. Nothing of the request or response body is read.
/// </summary>
/// <remarks>
/// While nothing listens to the instrument (no <c>MeterListener</c>, no OpenTelemetry metrics), a request passes
/// straight through: an app that collects no metrics does not pay a clock, a tag and an async layer per token request.
/// </remarks>
internal sealed class TokenRequestMetricsHandler : DelegatingHandler
{
    /// <summary>The request's <c>operation</c> tag, set by <see cref="TokenEndpointClient"/> (a fixed word of the list above).</summary>
    public static readonly HttpRequestOptionsKey<string> Operation = new("o8.metrics.operation");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        request.Method == HttpMethod.Post && O8Metrics.TokenExchangeDuration.Enabled
            ? SendRecordedAsync(request, cancellationToken)
            : base.SendAsync(request, cancellationToken);

    private async Task<HttpResponseMessage> SendRecordedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var provider = new KeyValuePair<string, object?>("provider", request.RequestUri?.Host ?? "unknown");
        var operation = new KeyValuePair<string, object?>("operation", request.Options.TryGetValue(Operation, out var op) ? op : "other");
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var result = code switch { < 400 => "ok", < 500 => "http_4xx", _ => "http_5xx" };
            O8Metrics.TokenExchangeDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, provider, operation, new("result", result));
            return response;
        }
        catch (Exception ex)
        {
            O8Metrics.TokenExchangeDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, provider, operation, new("result", ex.GetType().Name));
            throw;
        }
    }
}
