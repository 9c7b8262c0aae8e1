namespace O8Actors.Diagnostics;

/// <summary>
/// The names to give OpenTelemetry (or any <c>MeterListener</c> / <c>ActivityListener</c>) to collect O8Actors'
/// metrics and traces: <c>AddMeter(O8Telemetry.MeterName)</c>, <c>AddSource(O8Telemetry.ActivitySourceName)</c>.
/// </summary>
/// <remarks>
/// Instruments: <c>o8.logins.started</c>, <c>o8.logins.ended</c> (tag <c>outcome</c>; a failed login also <c>reason</c>,
/// its <see cref="LoginFailure"/> in snake_case such as <c>redirect_mismatch</c>), <c>o8.logins.refused</c> (tag
/// <c>reason</c>: <c>too_many_pending_logins</c>, <c>too_many_pending_logins_in_partition</c>), <c>o8.logins.in_flight</c>,
/// <c>o8.login.duration</c> and <c>o8.callback.duration</c> (seconds, tag <c>outcome</c>),
/// <c>o8.token_exchange.duration</c> (seconds, tags <c>provider</c>, <c>result</c>) and <c>o8.callbacks.rejected</c>
/// and <c>o8.backchannel_logouts.rejected</c> (tag <c>reason</c>), <c>o8.id_tokens.unchecked</c> (tags <c>provider</c>, <c>reason</c>: a
/// refresh's ID token left out because the provider's key set could not be fetched, <c>keys</c>, or its times disagree with this machine's clock, <c>clock</c>) and <c>o8.signouts</c> (tags
/// <c>revocation</c>, <c>provider_session</c>). Traces: one <c>o8.login</c> activity per login.
/// </remarks>
public static class O8Telemetry
{
    /// <summary>The name of O8Actors' <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string MeterName = "O8Actors";

    /// <summary>The name of O8Actors' <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string ActivitySourceName = "O8Actors";
}
