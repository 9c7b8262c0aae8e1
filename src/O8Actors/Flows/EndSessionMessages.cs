namespace O8Actors.Flows;

// Messages of a sign-out's browser step (OpenID Connect RP-Initiated Logout 1.0), between an account's actor, the
// flows supervisor and the EndSessionActor it starts.

/// <summary>
/// Ends the user's browser session at <paramref name="Provider"/>: open its end-session endpoint and wait for the browser
/// to come back to the listener; answered (to the sender) with one <see cref="ProviderSessionEnded"/>.
/// </summary>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="RequestId">Names this step in logs and in its answer.</param>
/// <param name="IdTokenHint">The account's last ID token (a secret: never logged), sent as <c>id_token_hint</c>; null when it has none.</param>
/// <param name="Timeout">How long to wait for the browser to come back.</param>
internal sealed record EndProviderSession(string Provider, string RequestId, string? IdTokenHint, TimeSpan Timeout)
{
    /// <summary>
    /// Server mode: receives the end-session URL, which the app redirects its user to, instead of a browser being opened
    /// here; completed with null when the step ends without one.
    /// </summary>
    public TaskCompletionSource<Uri?>? UrlTo { get; init; }

    /// <summary>
    /// The account signed out: a newer step of the same account takes over from one still waiting for its browser, so an
    /// app's logout endpoint replayed in a loop holds one step per account, not one per call.
    /// </summary>
    public OAuthAccount? Account { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"EndProviderSession {{ Provider = {Provider}, RequestId = {RequestId}, HasIdTokenHint = {IdTokenHint is not null} }}";
}

/// <summary>Tells a sign-out's browser step that a newer sign-out of the same account has taken over: it ends as failed.</summary>
internal sealed record EndSessionSuperseded
{
    public static EndSessionSuperseded Instance { get; } = new();
}

/// <summary>
/// Tells a sign-out's browser step that O8Actors is stopping (the flows supervisor drains): it ends as failed at once,
/// rather than hold its account's actor, and with it the app's dispose or host stop, until the browser comes back.
/// </summary>
internal sealed record EndSessionShutDown
{
    public static EndSessionShutDown Instance { get; } = new();
}

/// <summary>What became of an <see cref="EndProviderSession"/>; <paramref name="Reason"/> is safe to log (null when it ended).</summary>
internal sealed record ProviderSessionEnded(string RequestId, ProviderSessionOutcome Outcome, string? Reason = null)
{
    /// <summary>The reason given when the step never answered (its requester's backstop).</summary>
    public const string NoAnswer = "The provider's session step did not answer (internal error).";
}
