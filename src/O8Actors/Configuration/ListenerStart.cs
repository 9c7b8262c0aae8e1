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

    /// <summary>
    /// While needed (<c>while-needed</c>): binds as <see cref="OnFirstUse"/> does, and releases the port again once no
    /// login or sign-out has waited for a browser to come back for as long as a browser waits for its page (the
    /// exchange timeout, <c>o8.login.exchange-timeout</c>, plus 5 s); the next call that needs it binds it afresh. For an app
    /// that runs for hours and signs in now and then: the port is held only while a sign-in may use it, so other
    /// programs (another copy of the app, on the same fixed port) can use it in between. See <see cref="ListenerOptions.Start"/>.
    /// </summary>
    WhileNeeded,
}
