using Microsoft.AspNetCore.Builder;

namespace O8Actors.Callback;

// Messages the CallbackServerActor sends itself or receives from its own Kestrel handler. Not public API.

/// <summary>A well-formed callback from the Kestrel handler; the asker waits for a <see cref="CallbackResponse"/>.</summary>
/// <param name="State">The <c>state</c> it carries (a secret: routes it to its login).</param>
/// <param name="Code">The authorization code (a secret), if present.</param>
/// <param name="Error">The provider's <c>error</c>, if present.</param>
/// <param name="ErrorDescription">The provider's <c>error_description</c>, if present.</param>
/// <param name="Issuer">The <c>iss</c> parameter, if present.</param>
/// <param name="Path">The path it arrived on (cleaned), which the login checks against its provider's redirect path.</param>
internal sealed record CallbackReceived(string State, string? Code, string? Error, string? ErrorDescription, string? Issuer, string? Path = null)
{
    /// <summary>Server mode: the browser-binding secrets the request presented (login id → secret; secrets, never printed).</summary>
    public IReadOnlyDictionary<string, string>? BrowserSecrets { get; init; }

    /// <summary>
    /// A cluster's search for a sign-out's return on this node (the browser came back to another node, which counts the
    /// request if no node has it): an unknown return is answered as always, and neither logged nor counted here.
    /// </summary>
    public bool Search { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"CallbackReceived {{ HasCode = {Code is not null}, Error = {Error} }}";
}

/// <summary>Kestrel is listening.</summary>
/// <param name="App">The running server.</param>
/// <param name="Port">The port it is bound to.</param>
/// <param name="IPv6">Whether it is bound on [::1] too.</param>
/// <param name="Certificate">The certificate it serves (https), disposed once it has stopped; null for plain http.</param>
/// <param name="CertificateFiles">
/// The certificate files' <see cref="Certificates.CertificateProvider.Fingerprint"/> read before they were loaded; null when
/// no files are watched (plain http, or a certificate given in code).
/// </param>
internal sealed record ListenerStarted(WebApplication App, int Port, bool IPv6, ServedCertificate? Certificate, string? CertificateFiles);

/// <summary>Kestrel could not start (already mapped to an <see cref="OAuthFlowException"/>).</summary>
internal sealed record ListenerStartFailed(Exception Cause)
{
    /// <inheritdoc />
    public override string ToString() => $"ListenerStartFailed {{ Cause = {Diagnostics.Printed.TypeOf(Cause)} }}";
}

/// <summary>
/// On first use: a failed bind has answered everything that asked while it ran (the listener sends this to itself behind
/// them), so the listener goes back to unbound and the next need binds again.
/// </summary>
internal sealed class BindAttemptOver
{
    /// <summary>The one instance.</summary>
    public static readonly BindAttemptOver Instance = new();

    private BindAttemptOver() { }
}

/// <summary>Kestrel has stopped and been disposed; <paramref name="Failure"/> says why the stop was not clean, if it was not.</summary>
internal sealed record ListenerShutDown(Exception? Failure)
{
    /// <inheritdoc />
    public override string ToString() => $"ListenerShutDown {{ Failure = {Diagnostics.Printed.TypeOf(Failure)} }}";
}

/// <summary>The timer's tick: time for the <see cref="CertificateWatch"/> to check the served certificate.</summary>
internal sealed class CheckCertificate
{
    /// <summary>The one instance.</summary>
    public static readonly CheckCertificate Instance = new();

    private CheckCertificate() { }
}

/// <summary>Certificate check <paramref name="Check"/> (<see cref="CertificateWatch.Running"/>) has run for <see cref="CertificateWatch.CheckTimeout"/>.</summary>
internal sealed record CertificateCheckTimedOut(int Check);
