using Microsoft.AspNetCore.Builder;
using System.Security.Cryptography.X509Certificates;

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
internal sealed record ListenerStarted(WebApplication App, int Port, bool IPv6, X509Certificate2? OwnedCertificate);

/// <summary>Kestrel could not start (already mapped to an <see cref="OAuthFlowException"/>).</summary>
internal sealed record ListenerStartFailed(Exception Cause)
{
    /// <inheritdoc />
    public override string ToString() => $"ListenerStartFailed {{ Cause = {Diagnostics.Printed.TypeOf(Cause)} }}";
}

/// <summary>Kestrel has stopped and been disposed; <paramref name="Failure"/> says why the stop was not clean, if it was not.</summary>
internal sealed record ListenerShutDown(Exception? Failure)
{
    /// <inheritdoc />
    public override string ToString() => $"ListenerShutDown {{ Failure = {Diagnostics.Printed.TypeOf(Failure)} }}";
}
