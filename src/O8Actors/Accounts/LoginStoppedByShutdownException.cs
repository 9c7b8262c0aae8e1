namespace O8Actors.Accounts;

/// <summary>
/// An account's interactive login ended because O8Actors stopped where it ran (<see cref="LoginCancelled.ByShutdown"/>):
/// a cancellation to a caller in the same process, which is stopping with it; O8Actors.Cluster tells a caller on another
/// node, which did not cancel and stays up, that the node went away (<c>LoginFailure.NodeLost</c>: try again), rather
/// than a cancellation a web app would take for its own client's.
/// </summary>
internal sealed class LoginStoppedByShutdownException(OAuthAccount account)
    : OperationCanceledException($"The interactive login of {account} was cancelled: O8Actors is shutting down where it ran.")
{
    /// <summary>The account whose login it was.</summary>
    public OAuthAccount Account { get; } = account;
}
