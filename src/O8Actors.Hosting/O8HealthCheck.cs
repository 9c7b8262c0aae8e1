using Akka.Actor;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using O8Actors.Configuration;

namespace O8Actors.Hosting;

/// <summary>
/// Health of O8Actors for <c>Microsoft.Extensions.Diagnostics.HealthChecks</c>: healthy when the redirect listener is
/// bound (or, in server mode, routing callbacks; with <c>o8.listener.start = on-first-use</c> or <c>while-needed</c>, also
/// while it is not bound, unless the last bind failed), and, on a cluster node (O8Actors.Cluster), once the node is an up
/// member of its cluster; the data carries the listener's base redirect URI (<c>redirect_uri</c>;
/// each provider's own lies under it: <see cref="IOAuthLogins.GetRedirectUriAsync(string, CancellationToken)"/>) and the logins in flight.
/// Registered by <c>AddOAuthLogins</c> as <c>o8actors</c> (tags <c>o8</c>, <c>ready</c>).
/// </summary>
internal sealed class O8HealthCheck(O8Runtime runtime) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!runtime.TryGet(out var started))
            return new HealthCheckResult(context.Registration.FailureStatus, "O8Actors has not started yet.");

        try
        {
            var status = await started.Client.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            var data = new Dictionary<string, object>
            {
                ["listener_bound"] = status.ListenerBound,
                ["logins_in_flight"] = status.LoginsInFlight,
                ["callbacks_awaited"] = status.CallbacksAwaited,
            };
            if (status.RedirectUri is { } redirect) data["redirect_uri"] = redirect.ToString();
            if (runtime.NotReady?.Invoke() is { } notReady)
                return new HealthCheckResult(context.Registration.FailureStatus, $"O8Actors is not ready: {notReady}", data: data);
            if (status.ListenerBound)
                return HealthCheckResult.Healthy($"Redirect listener bound; {status.LoginsInFlight} login(s) in flight.", data);
            // Not bound yet is the setting's intent, not a fault; a last bind that failed still reports below.
            if (started.Options.Listener.Start != ListenerStart.AtStart && status.ListenerFailure is null)
                return HealthCheckResult.Healthy(
                    $"Redirect listener not bound now (o8.listener.start = {Hocon(started.Options.Listener.Start)}: it binds when a sign-in needs it); " +
                    $"{status.LoginsInFlight} login(s) in flight.", data);
            var why = status.ListenerFailure?.Message ?? "the redirect listener is not bound (stopping or stopped)";
            return new HealthCheckResult(context.Registration.FailureStatus, $"O8Actors is not ready: {why}", status.ListenerFailure, data);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException or ActorNotFoundException or ObjectDisposedException)
        {
            // ObjectDisposedException: its actor system terminated while (or before) it was asked.
            return new HealthCheckResult(context.Registration.FailureStatus, "O8Actors did not answer (shutting down or overloaded).", ex);
        }
    }

    private static string Hocon(ListenerStart start) => start == ListenerStart.WhileNeeded ? "while-needed" : "on-first-use";
}
