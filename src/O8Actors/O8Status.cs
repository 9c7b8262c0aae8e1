namespace O8Actors;

/// <summary>
/// What one O8Actors instance is doing, from <see cref="IOAuthLogins.GetStatusAsync"/>: whether its redirect listener
/// takes callbacks, the listener's redirect URI, and how many logins are in flight. The hosting package's health check reports it.
/// </summary>
/// <param name="ListenerBound">
/// Whether callbacks are taken: the loopback listener is bound (in server mode: callbacks are routed). With
/// <c>o8.listener.start = on-first-use</c>, <c>false</c> until a browser login, a sign-out that ends the provider's session
/// or <see cref="IOAuthLogins.GetRedirectUriAsync(CancellationToken)"/> has bound it (a status call does not); with
/// <c>while-needed</c>, also again once it has released the port between sign-ins.
/// </param>
/// <param name="RedirectUri">
/// The listener's base redirect URI (the callback URI, such as <c>https://localhost:41539/</c>; in server mode the external
/// one), <c>null</c> while the listener is not bound. Each provider's own redirect URI, the one to register with it,
/// lies under it (by default followed by the provider's name): ask <see cref="IOAuthLogins.GetRedirectUriAsync(string, CancellationToken)"/>.
/// An <c>OAuthFlow</c> subclass registers this one.
/// </param>
/// <param name="LoginsInFlight">Logins started and not yet ended.</param>
/// <param name="CallbacksAwaited">Browser redirects the listener waits for: logins', and sign-outs' returns from the provider's end-session page.</param>
/// <param name="ListenerFailure">
/// Why the listener could not start (for example <see cref="ListenerPortInUseException"/> or <see cref="CertificateNotFoundException"/>),
/// or <c>null</c>. On first use: why its last bind failed, until a bind succeeds (the next use binds again).
/// </param>
public sealed record O8Status(bool ListenerBound, Uri? RedirectUri, int LoginsInFlight, int CallbacksAwaited, Exception? ListenerFailure);
