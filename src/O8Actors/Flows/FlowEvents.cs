namespace O8Actors;

/// <summary>
/// Progress of one login, published on the actor system's event stream (and exposed by <see cref="IOAuthFlows.Events"/>)
/// for UIs, progress bars and agents. Events never carry a token, code or verifier.
/// </summary>
/// <param name="FlowId">The login's public id.</param>
/// <param name="Provider">The provider's name.</param>
public abstract record FlowEvent(string FlowId, string Provider)
{
    /// <summary>When it happened.</summary>
    public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>A login started.</summary>
public sealed record FlowStartedEvent(string FlowId, string Provider) : FlowEvent(FlowId, Provider);

/// <summary>The authorize URL is ready (show it if no browser opens).</summary>
public sealed record AuthorizeUrlReadyEvent(string FlowId, string Provider, Uri AuthorizeUrl) : FlowEvent(FlowId, Provider);

/// <summary>The browser launcher finished: <paramref name="Launched"/> says whether a browser opened.</summary>
public sealed record BrowserLaunchedEvent(string FlowId, string Provider, bool Launched, string Detail) : FlowEvent(FlowId, Provider);

/// <summary>The browser came back to the listener.</summary>
public sealed record CallbackReceivedEvent(string FlowId, string Provider, bool HasCode, string? Error) : FlowEvent(FlowId, Provider);

/// <summary>The code was exchanged for tokens.</summary>
public sealed record TokensExchangedEvent(string FlowId, string Provider) : FlowEvent(FlowId, Provider);

/// <summary>The login ended; <paramref name="Reason"/> is safe to show (never a secret).</summary>
public sealed record FlowEndedEvent(string FlowId, string Provider, FlowOutcomeKind Outcome, string? Reason, TimeSpan Duration)
    : FlowEvent(FlowId, Provider);
