using Akka.Actor;

namespace O8Actors.Cluster;

/// <summary>
/// An account request's failure in a shape Akka.Remote's JSON serializer carries whole: the exceptions themselves do
/// not survive it (a caller on another node would see a bare cancellation). The entity's node makes it, the caller's
/// node turns it back into the same exception type, with its login id and O8Actors' own inner verdict (a refused ID
/// token, a timeout). Messages hold no token (the account actor's messages never do).
/// </summary>
internal sealed record WireAccountFailure(
    string Kind, string Message, OAuthAccount? Account = null, InteractionReason Reason = default, LoginFailure Failure = default,
    string? ProviderError = null, string? Error = null, string? ErrorDescription = null, TimeSpan? Timeout = null)
{
    /// <summary>The login the failure came from, when it names one (<see cref="OAuthFlowException.LoginId"/>).</summary>
    public string? LoginId { get; init; }

    /// <summary>The kind of O8Actors' own inner verdict of a token request's failure ("id-token", "timeout"), if any.</summary>
    public string? Inner { get; init; }

    /// <summary>A pending-login limit's value (<see cref="TooManyPendingLoginsException.Limit"/>).</summary>
    public int Limit { get; init; }

    /// <summary>The wire form of <paramref name="e"/>.</summary>
    public static WireAccountFailure From(Exception e) => (e switch
    {
        // (Typed: the arms' initializers leave the switch no natural type.)
        InteractionRequiredException i => new WireAccountFailure("interaction", i.Message, i.Account, i.Reason),
        TokenExchangeException t => new("exchange", t.Message, ProviderError: t.ProviderError) { Inner = InnerKind(t.InnerException) },
        IdTokenValidationException v => new("id-token", v.Message),
        IssuerMismatchException m => new("issuer-mismatch", m.Message),
        TooManyPendingLoginsException p => new("too-many", p.Message, Error: p.Setting) { Limit = p.Limit },
        AuthorizationFailedException a => new("failed", a.Message, Failure: a.Failure),
        UnknownProviderException u => new("unknown-provider", u.Message, Error: u.Provider),
        ProviderBusyException b => new("busy", b.Message),
        AuthorizationDeniedException d => new("denied", d.Message, Error: d.Error, ErrorDescription: d.ErrorDescription),
        AuthorizationTimeoutException t => new("timeout", t.Message, Timeout: t.Timeout),
        // The account's login ran on this node, which is shutting down or leaving: the caller's node stays, and its caller
        // did not cancel; a move, as when a hand-off answers what an entity held.
        O8Actors.Accounts.LoginStoppedByShutdownException s => new("failed",
            $"The node running the interactive login of {s.Account} is shutting down or leaving the cluster; the login ended before the user " +
            "finished it. Try again.", Failure: LoginFailure.NodeLost),
        OperationCanceledException c => new("cancelled", c.Message),
        // Anything else (an Ask that timed out on the entity's node, a bug): its type only, never its text.
        _ => new("failed", $"The account's actor failed on its node: {e.GetType().Name}.", Failure: LoginFailure.Internal),
    }) with
    {
        LoginId = (e as OAuthFlowException)?.LoginId,
    };

    /// <summary>The exception this failure was made from (same type and fields).</summary>
    public Exception ToException() => Kind switch
    {
        "interaction" => new InteractionRequiredException(Account!, Reason, Message) { LoginId = LoginId },
        "exchange" => new TokenExchangeException(Message, ProviderError, InnerVerdict()) { LoginId = LoginId },
        "id-token" => new IdTokenValidationException(Message) { LoginId = LoginId },
        "issuer-mismatch" => new IssuerMismatchException(Message) { LoginId = LoginId },
        "too-many" => new TooManyPendingLoginsException(Error ?? "", Limit) { LoginId = LoginId },
        "unknown-provider" => new UnknownProviderException(Error ?? "") { LoginId = LoginId },
        "busy" => new ProviderBusyException(Message) { LoginId = LoginId },
        "denied" => new AuthorizationDeniedException(Error ?? "", ErrorDescription) { LoginId = LoginId },
        // A device login's message stays its own.
        "timeout" => new AuthorizationTimeoutException(Timeout ?? TimeSpan.Zero, Message) { LoginId = LoginId },
        "cancelled" => new OperationCanceledException(Message),
        _ => new AuthorizationFailedException(Failure, Message) { LoginId = LoginId },
    };

    /// <summary>A reply to send to the caller's node: answers go as they are, failures in their wire form.</summary>
    public static object Reply(object answer) => answer is Status.Failure f ? From(f.Cause) : answer;

    /// <summary>
    /// O8Actors' own inner verdicts of a token request (AccountActor's RefreshException): a refused ID token, a timeout;
    /// an app's exception is never carried (it may quote a token response).
    /// </summary>
    private static string? InnerKind(Exception? inner) => inner switch
    {
        IdTokenValidationException => "id-token",
        TimeoutException => "timeout",
        _ => null,
    };

    /// <summary>The inner verdict again, made from the message it was made from (the token request's reason).</summary>
    private Exception? InnerVerdict() => Inner switch
    {
        "id-token" => new IdTokenValidationException(Message),
        "timeout" => new TimeoutException(Message),
        _ => null,
    };
}
