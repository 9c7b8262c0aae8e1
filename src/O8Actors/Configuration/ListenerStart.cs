namespace O8Actors.Configuration;

/// <summary>When the loopback redirect listener binds its port (<c>o8.listener.start</c>, <see cref="ListenerOptions.Start"/>).</summary>
public enum ListenerStart
{
    /// <summary>
    /// At start (<c>at-start</c>, the default): <c>OAuthLogins.StartAsync</c> (or the host's start) binds the port and
    /// loads the certificate, and fails with <see cref="ListenerPortInUseException"/> or
    /// <see cref="CertificateNotFoundException"/> when it cannot.
    /// </summary>
    AtStart,

    /// <summary>
    /// On first use (<c>on-first-use</c>): nothing is bound at start. The first call that needs a browser to come back
    /// binds the port: a browser login, a sign-out that ends the provider's session, or
    /// <see cref="IOAuthLogins.GetRedirectUriAsync(CancellationToken)"/>. See <see cref="ListenerOptions.Start"/>.
    /// </summary>
    OnFirstUse,
}
