using Polly;

namespace O8Actors.Providers;

/// <summary>
/// The resilience of the providers' HTTP client: requests with a safe method (discovery and JWKS GETs) run through a
/// Polly pipeline built from Microsoft.Extensions.Http.Resilience's HTTP retry options (transient errors, Retry-After,
/// per-attempt and total timeouts); every other request (token, revocation and introspection POSTs, and any request
/// carrying a DPoP proof) goes straight to the next handler.
/// </summary>
/// <remarks>
/// A POST is never retried: a code is single use and a repeat would burn it. Sending POSTs through the pipeline only
/// to have the retry decline them cost every login a pipeline execution (a pooled context, three strategies, their
/// telemetry) and hundreds of methods for the JIT to tier up (measured in the independent benchmark, issue 15). A
/// POST's timeout is its caller's: the provider actor runs every request under the exchange timeout.
/// </remarks>
internal sealed class SafeMethodRetryHandler(ResiliencePipeline<HttpResponseMessage> pipeline) : DelegatingHandler
{
    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // A request with a DPoP proof (a bound UserInfo GET) is not sent again either: its proof is for one use, a server
        // that remembers proofs (RFC 9449 section 11.1) refuses the repeat, and a passing 503 would come back as a
        // refused proof. Its caller signs a new proof for a new attempt.
        if (!IsSafe(request.Method) || request.Headers.Contains(Dpop.DpopProof.HeaderName)) return base.SendAsync(request, cancellationToken);
        return SendWithRetriesAsync(request, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendWithRetriesAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        await pipeline.ExecuteAsync(
            static (state, ct) => new ValueTask<HttpResponseMessage>(state.Handler.SendInnerAsync(state.Request, ct)),
            (Handler: this, Request: request), cancellationToken).ConfigureAwait(false);

    private Task<HttpResponseMessage> SendInnerAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);

    /// <summary>RFC 9110 section 9.2.1: GET, HEAD, OPTIONS and TRACE change nothing on the server.</summary>
    private static bool IsSafe(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options || method == HttpMethod.Trace;
}
