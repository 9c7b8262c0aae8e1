using O8Actors.Diagnostics;

namespace O8Actors.Accounts;

/// <summary>
/// The messages an account's actor sends itself (the store's, the provider's and its timers' answers, each carrying the
/// renewal, sign-out or retry it answers so a late one is told apart), and the one it sends its parent.
/// </summary>
internal sealed partial class AccountActor
{
    private sealed record Locked(int Generation, IAsyncDisposable Handle);
    private sealed record Loaded(int Generation, StoredTokens? Stored);
    private sealed record Saved(int Generation, TokenSet Tokens, long? Version);
    // The store's exceptions are the app's (its ITokenStore) and may quote what it stored: these print their type only.
    private sealed record StoreFailed(int Generation, Exception Cause)
    {
        public override string ToString() => $"StoreFailed {{ Generation = {Generation}, Cause = {Printed.TypeOf(Cause)} }}";
    }
    private sealed record RenewalTimedOut(int Generation);
    private sealed record InteractiveDone(int Generation, LoginOutcome Outcome);
    /// <summary>A caller of the interactive login of <paramref name="Generation"/> cancelled its request.</summary>
    private sealed record CallerCancelled(int Generation);
    /// <summary>The own deadline of a caller that joined the interactive login of <paramref name="Generation"/> passed.</summary>
    private sealed record JoinedCallerTimedOut(int Generation, Waiter Waiter);
    /// <summary>One sign-out (or one removal retry): the store's answers carry it, so a late answer of an abandoned one is told apart.</summary>
    private sealed class Attempt;
    private sealed record SignOutLoaded(Attempt Attempt, StoredTokens? Stored);
    private sealed record SignOutLoadFailed(Attempt Attempt, Exception Cause, bool Locking = false)
    {
        public override string ToString() => $"SignOutLoadFailed {{ Cause = {Printed.TypeOf(Cause)}, Locking = {Locking} }}";
    }
    private sealed record SignOutLocked(Attempt Attempt, IAsyncDisposable Handle);
    private sealed record SignOutRemoved(Attempt Attempt, SignOutResult Answer);
    private sealed record SignOutRemoveFailed(Attempt Attempt, SignOutResult Revoked, Exception Cause)
    {
        public override string ToString() => $"SignOutRemoveFailed {{ Revoked = {Revoked}, Cause = {Printed.TypeOf(Cause)} }}";
    }
    private sealed record RetryRemove;
    /// <param name="Attempt">The retry it answers.</param>
    /// <param name="Cause">Why the retry failed; null when it did not.</param>
    /// <param name="Replaced">The store held other tokens than the signed-out copy (another process stored them since): left there.</param>
    private sealed record RemoveRetried(Attempt Attempt, Exception? Cause, bool Replaced = false)
    {
        public override string ToString() => $"RemoveRetried {{ Cause = {Printed.TypeOf(Cause)}, Replaced = {Replaced} }}";
    }
    private sealed record RetrySave;
    /// <summary>A hand-off has waited its renewal's length for a refresh given up to answer: it goes on without it.</summary>
    private sealed record HandOffWaitOver;
    /// <summary>A hand-off has lasted <see cref="AccountSettings.HandOffWait"/>: the actor stops, whatever is still under way.</summary>
    private sealed record HandOffDeadlineReached;
    /// <summary>A refresh given up: its id, the stored copy it replaces (whose refresh token it spent) and the scopes it asked for.</summary>
    /// <summary>A refresh given up unanswered (<see cref="GivenUpAt"/>, scheduler time): its answer is still taken if it comes.</summary>
    private sealed record LateRefresh(string Id, StoredTokens Over, IReadOnlyList<string>? Scopes, DateTimeOffset GivenUpAt);

    /// <summary>Sent to the parent once signed out: it stops routing here and retires this actor.</summary>
    internal sealed record Forgotten(OAuthAccount Account);

    /// <summary>
    /// Sent to the parent once signed out, while the sign-out's end-session step still runs: it stops routing here at once
    /// (the account's next messages start a fresh actor), and retires this actor when it sends <see cref="Forgotten"/>.
    /// </summary>
    internal sealed record Detached(OAuthAccount Account);
}
