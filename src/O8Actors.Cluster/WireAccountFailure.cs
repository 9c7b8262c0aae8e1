using Akka.Actor;

namespace O8Actors.Cluster;

/// <summary>
/// An account request's failure in a shape Akka.Remote's JSON serializer carries whole: the exceptions themselves do
/// not survive it (a caller on another node would see a bare cancellation). The entity's node makes it, the caller's
/// node turns it back into the same exception type. Messages hold no token (the account actor's messages never do).
/// </summary>
internal sealed record WireAccountFailure(
    string Kind, string Message, OAuthAccount? Account = null, InteractionReason Reason = default, LoginFailure Failure = default,
    string? ProviderError = null, string? Error = null, string? ErrorDescription = null, TimeSpan? Timeout = null)
{
    /// <summary>The wire form of <paramref name="e"/>.</summary>
    public static WireAccountFailure From(Exception e) => e switch
    {
        InteractionRequiredException i => new("interaction", i.Message, i.Account, i.Reason),
        TokenExchangeException t => new("exchange", t.Message, ProviderError: t.ProviderError),
        AuthorizationFailedException a => new("failed", a.Message, Failure: a.Failure),
        UnknownProviderException u => new("unknown-provider", u.Message, Error: u.Provider),
        ProviderBusyException b => new("busy", b.Message),
        AuthorizationDeniedException d => new("denied", d.Message, Error: d.Error, ErrorDescription: d.ErrorDescription),
        AuthorizationTimeoutException t => new("timeout", t.Message, Timeout: t.Timeout),
        OperationCanceledException c => new("cancelled", c.Message),
        // Anything else (an Ask that timed out on the entity's node, a bug): its type only, never its text.
        _ => new("failed", $"The account's actor failed on its node: {e.GetType().Name}.", Failure: LoginFailure.Internal),
    };

    /// <summary>The exception this failure was made from (same type and fields).</summary>
    public Exception ToException() => Kind switch
    {
        "interaction" => new InteractionRequiredException(Account!, Reason, Message),
        "exchange" => new TokenExchangeException(Message, ProviderError),
        "unknown-provider" => new UnknownProviderException(Error ?? ""),
        "busy" => new ProviderBusyException(Message),
        "denied" => new AuthorizationDeniedException(Error ?? "", ErrorDescription),
        "timeout" => new AuthorizationTimeoutException(Timeout ?? TimeSpan.Zero, Message), // a device login's message stays its own
        "cancelled" => new OperationCanceledException(Message),
        _ => new AuthorizationFailedException(Failure, Message),
    };

    /// <summary>A reply to send to the caller's node: answers go as they are, failures in their wire form.</summary>
    public static object Reply(object answer) => answer is Status.Failure f ? From(f.Cause) : answer;
}
