using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace O8Actors.TestSupport;

/// <summary>
/// A step of the proxy's pipeline (before load balancing) that sends a GET or HEAD again, to another node, when it could
/// not be forwarded to the node picked first (no response from it: the node is down or died mid-request). YARP 2.3 has no
/// retries of its own (dotnet/yarp#56); a balancer in front of a real deployment does this. Only idempotent methods: a
/// callback is a GET, and the login's single use turns a callback that did reach the dead node into an error page, never
/// a second exchange.
/// </summary>
public static class RetryOnAnotherNode
{
    /// <summary>The response header naming the node(s) a request was retried away from (the test's evidence).</summary>
    public const string Header = "X-Proxy-Retried-From";

    private const int MaxAttempts = 3;

    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            await next();
            return;
        }

        var proxy = context.GetReverseProxyFeature();
        var retriedFrom = new List<string>();
        for (var attempt = 1; ; attempt++)
        {
            // Load balancing narrows the list to the one node it picks: keep the candidates from before it.
            var candidates = proxy.AvailableDestinations;
            await next();
            var error = context.GetForwarderErrorFeature();
            if (error is null || error.Error != ForwarderError.Request || context.Response.HasStarted || attempt == MaxAttempts) break;
            if (proxy.ProxiedDestination is not { } failed) break;
            var others = candidates.Where(d => !ReferenceEquals(d, failed)).ToList();
            if (others.Count == 0) break;

            retriedFrom.Add(failed.DestinationId);
            proxy.AvailableDestinations = others;
            context.Features.Set<IForwarderErrorFeature>(null);
            // The forwarder wrote a 502 (headers only, not started): start again from an empty response.
            context.Response.Clear();
        }

        if (retriedFrom.Count > 0 && !context.Response.HasStarted) context.Response.Headers[Header] = string.Join(",", retriedFrom);
    }
}
