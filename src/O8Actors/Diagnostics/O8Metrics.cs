using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace O8Actors.Diagnostics;

/// <summary>
/// O8Actors' instruments and traces; their names for users are in <see cref="O8Telemetry"/>.
/// </summary>
internal static class O8Metrics
{
    /// <summary>The meter.</summary>
    public static readonly Meter Meter = new(O8Telemetry.MeterName);

    /// <summary>One activity per login.</summary>
    public static readonly ActivitySource ActivitySource = new(O8Telemetry.ActivitySourceName);

    /// <summary>Logins started.</summary>
    public static readonly Counter<long> LoginsStarted = Meter.CreateCounter<long>("o8.logins.started", "{login}", "Logins started.");

    /// <summary>Logins ended, tagged <c>outcome</c>.</summary>
    public static readonly Counter<long> LoginsEnded = Meter.CreateCounter<long>("o8.logins.ended", "{login}", "Logins ended, by outcome.");

    /// <summary>Logins in flight.</summary>
    public static readonly UpDownCounter<long> LoginsInFlight = Meter.CreateUpDownCounter<long>("o8.logins.in_flight", "{login}", "Logins in flight.");

    /// <summary>Whole-login duration, tagged <c>outcome</c>.</summary>
    public static readonly Histogram<double> LoginDuration = Meter.CreateHistogram<double>("o8.login.duration", "s", "Start to outcome.");

    /// <summary>Callback-to-outcome latency (the part O8Actors and the token endpoint control), tagged <c>outcome</c>.</summary>
    public static readonly Histogram<double> CallbackToOutcome = Meter.CreateHistogram<double>("o8.callback.duration", "s", "Callback to outcome.");

    /// <summary>Token-exchange latency, tagged <c>provider</c> and <c>result</c>.</summary>
    public static readonly Histogram<double> TokenExchangeDuration = Meter.CreateHistogram<double>("o8.token_exchange.duration", "s", "Token request latency.");

    /// <summary>Callbacks rejected by the listener, tagged <c>reason</c>.</summary>
    public static readonly Counter<long> CallbacksRejected = Meter.CreateCounter<long>("o8.callbacks.rejected", "{request}", "Requests the listener refused.");

    internal static KeyValuePair<string, object?> Outcome(LoginOutcomeKind kind) => new("outcome", OutcomeTag(kind));

    internal static string OutcomeTag(LoginOutcomeKind kind) => kind switch
    {
        LoginOutcomeKind.Succeeded => "succeeded",
        LoginOutcomeKind.Denied => "denied",
        LoginOutcomeKind.TimedOut => "timed_out",
        LoginOutcomeKind.Cancelled => "cancelled",
        _ => "failed",
    };
}
