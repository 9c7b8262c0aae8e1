using Akka.Actor;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using O8Actors.Callback;
using O8Actors.Flows;

namespace O8Actors.Hosting;

/// <summary>
/// Health of O8Actors for <c>Microsoft.Extensions.Diagnostics.HealthChecks</c>: healthy when the redirect listener is
/// bound (or, in server mode, routing callbacks); the data carries the redirect URI and the logins in flight.
/// Registered by <c>AddOAuthLogins</c> as <c>o8actors</c> (tags <c>o8</c>, <c>ready</c>).
/// </summary>
internal sealed class O8HealthCheck(O8Runtime runtime) : IHealthCheck
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!runtime.TryGet(out var started))
            return new HealthCheckResult(context.Registration.FailureStatus, "O8Actors has not started yet.");

        try
        {
            var statusAsk = started.Actors.Listener.Ask<ListenerStatus>(GetListenerStatus.Instance, AskTimeout, cancellationToken);
            var flowsAsk = started.Actors.Flows.Ask<FlowsInFlight>(GetFlowsInFlight.Instance, AskTimeout, cancellationToken);
            var status = await statusAsk.ConfigureAwait(false);
            var flows = await flowsAsk.ConfigureAwait(false);
            var data = new Dictionary<string, object>
            {
                ["listener_bound"] = status.Bound,
                ["logins_in_flight"] = flows.Count,
                ["callbacks_awaited"] = status.RegisteredStates,
            };
            if (status.RedirectUri is { } redirect) data["redirect_uri"] = redirect.ToString();
            if (status.Bound)
                return HealthCheckResult.Healthy($"Redirect listener bound; {flows.Count} login(s) in flight.", data);
            var why = status.Failure?.Message ?? "the redirect listener is not bound (stopping or stopped)";
            return new HealthCheckResult(context.Registration.FailureStatus, $"O8Actors is not ready: {why}", status.Failure, data);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException or ActorNotFoundException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "O8Actors did not answer (shutting down or overloaded).", ex);
        }
    }
}
