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

    /// <summary>Logins ended, tagged <c>outcome</c> and, for a failed one, <c>reason</c> (its <see cref="LoginFailure"/>).</summary>
    public static readonly Counter<long> LoginsEnded = Meter.CreateCounter<long>("o8.logins.ended", "{login}", "Logins ended, by outcome and failure reason.");

    /// <summary>Logins refused at start by a limit on running logins, tagged <c>reason</c>.</summary>
    public static readonly Counter<long> LoginsRefused = Meter.CreateCounter<long>("o8.logins.refused", "{login}", "Logins refused at start, by reason.");

    /// <summary>Logins in flight.</summary>
    public static readonly UpDownCounter<long> LoginsInFlight = Meter.CreateUpDownCounter<long>("o8.logins.in_flight", "{login}", "Logins in flight.");

    /// <summary>Whole-login duration, tagged <c>outcome</c>.</summary>
    public static readonly Histogram<double> LoginDuration = Meter.CreateHistogram<double>("o8.login.duration", "s", "Start to outcome.");

    /// <summary>Callback-to-outcome latency (the part O8Actors and the token endpoint control), tagged <c>outcome</c>.</summary>
    public static readonly Histogram<double> CallbackToOutcome = Meter.CreateHistogram<double>("o8.callback.duration", "s", "Callback to outcome.");

    /// <summary>Latency of each POST to a provider (token endpoint and the others), tagged <c>provider</c>, <c>operation</c> and <c>result</c> (<see cref="Providers.TokenRequestMetricsHandler"/>).</summary>
    public static readonly Histogram<double> TokenExchangeDuration = Meter.CreateHistogram<double>("o8.token_exchange.duration", "s", "Token request latency.");

    /// <summary>Callbacks rejected by the listener, tagged <c>reason</c>.</summary>
    public static readonly Counter<long> CallbacksRejected = Meter.CreateCounter<long>("o8.callbacks.rejected", "{request}", "Requests the listener refused.");

    /// <summary><c>reason</c> of a rejected callback: a code or an error whose state no login holds (never issued, spent, or its login ended).</summary>
    internal const string UnknownStateReason = "unknown_state";

    /// <summary>
    /// <c>reason</c> of a rejected callback: neither a code nor an error where a login waits, or a state-only return no
    /// sign-out waits for.
    /// </summary>
    internal const string MissingCodeAndErrorReason = "missing_code_and_error";

    /// <summary>Counts one rejected callback with its <paramref name="reason"/> tag.</summary>
    internal static void CallbackRejected(string reason) => CallbacksRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Back-channel logout requests refused (<c>MapOAuthBackChannelLogout</c>), tagged <c>reason</c>.</summary>
    public static readonly Counter<long> BackChannelLogoutsRejected =
        Meter.CreateCounter<long>("o8.backchannel_logouts.rejected", "{request}", "Back-channel logout requests refused.");

    /// <summary>
    /// Refreshed ID tokens left out unchecked because the provider's key set could not be fetched (the account keeps the
    /// ID token it holds), tagged <c>provider</c>. A count that grows says the key endpoint is failing.
    /// </summary>
    public static readonly Counter<long> IdTokensUnchecked =
        Meter.CreateCounter<long>("o8.id_tokens.unchecked", "{token}", "Refreshed ID tokens left out because the provider's key set could not be fetched or their times disagree with this machine's clock.");

    /// <summary>Sign-outs answered, tagged <c>revocation</c> and <c>provider_session</c> (what the provider did with the tokens and with its session).</summary>
    public static readonly Counter<long> SignOuts = Meter.CreateCounter<long>("o8.signouts", "{sign-out}", "Sign-outs, by revocation and provider-session outcome.");

    /// <summary>Counts one answered sign-out.</summary>
    internal static void SignedOut(SignOutResult result) => SignOuts.Add(1,
        new KeyValuePair<string, object?>("revocation", RevocationTags[result.Revocation]),
        new KeyValuePair<string, object?>("provider_session", ProviderSessionTags[result.ProviderSession]));

    internal static KeyValuePair<string, object?> Outcome(LoginOutcomeKind kind) => new("outcome", OutcomeTag(kind));

    internal static KeyValuePair<string, object?> Reason(LoginFailure failure) => new("reason", ReasonTag(failure));

    // snake_case names made once: a closed set, so a dashboard can rely on them (IssuerMismatch → issuer_mismatch).
    private static readonly Dictionary<LoginFailure, string> ReasonTags = Enum.GetValues<LoginFailure>().ToDictionary(f => f, f => SnakeCase(f.ToString()));

    private static readonly Dictionary<RevocationOutcome, string> RevocationTags =
        Enum.GetValues<RevocationOutcome>().ToDictionary(o => o, o => SnakeCase(o.ToString()));

    private static readonly Dictionary<ProviderSessionOutcome, string> ProviderSessionTags =
        Enum.GetValues<ProviderSessionOutcome>().ToDictionary(o => o, o => SnakeCase(o.ToString()));

    /// <summary>The <c>reason</c> tag of a failure: its name in snake_case.</summary>
    internal static string ReasonTag(LoginFailure failure) => ReasonTags.TryGetValue(failure, out var tag) ? tag : "unknown";

    private static string SnakeCase(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) builder.Append('_');
            builder.Append(char.ToLowerInvariant(name[i]));
        }
        return builder.ToString();
    }

    internal static string OutcomeTag(LoginOutcomeKind kind) => kind switch
    {
        LoginOutcomeKind.Succeeded => "succeeded",
        LoginOutcomeKind.Denied => "denied",
        LoginOutcomeKind.TimedOut => "timed_out",
        LoginOutcomeKind.Cancelled => "cancelled",
        _ => "failed",
    };
}
