namespace O8Actors.Cluster;

/// <summary>
/// Runs on the node where a cluster login ended, with its outcome: the place to record a sign-in in the app's own data
/// when the node that began the login may be gone by then. A success's tokens are already remembered as its account
/// (<see cref="LoginSucceeded.Account"/>; null when they could not be stored, when they name no account (no ID token and
/// no account key), or when the login's node stopped while storing them) before the handler runs: do not save
/// them into the library's <c>ITokenStore</c> a second time. Register one in DI
/// (<c>services.AddSingleton&lt;IClusterLoginOutcomeHandler, MyHandler&gt;()</c>) on every node.
/// </summary>
/// <remarks>
/// Which one runs when: <c>PendingLogin.Outcome</c> completes on the node that began the login, while that node lives;
/// this handler runs on the node that ran the login, for every outcome the login itself reached (succeeded, denied,
/// timed out, cancelled, failed), whether or not the beginning node still lives. A login whose own node is lost has no
/// node to run a handler: only its caller learns of it (<see cref="LoginFailure.NodeLost"/>). The handler runs off the
/// login's actor; a handler that throws is logged (its type only) and changes nothing else.
/// </remarks>
public interface IClusterLoginOutcomeHandler
{
    /// <summary>Handles one login's outcome on the node where it ended.</summary>
    /// <param name="ended">The login and its outcome (which may carry tokens: never log it whole).</param>
    /// <param name="cancellationToken">
    /// Cancelled as this node's actor system terminates, at the end of its shutdown: not when the shutdown begins, since a
    /// login whose code is at the provider finishes during it (the node hands its logins off first) and its handler then
    /// runs with this token live. Pass it to the handler's I/O. A handler it cancels is logged (its exception type only).
    /// </param>
    Task HandleAsync(ClusterLoginEnded ended, CancellationToken cancellationToken);
}

/// <summary>A cluster login that ended, as its outcome handler sees it.</summary>
/// <param name="LoginId">The login's public id (the one <c>PendingLogin.LoginId</c> gave the app).</param>
/// <param name="Provider">The provider's name.</param>
/// <param name="Partition">The request's partition (the app's user id, when it set one), to know whose tokens these are.</param>
/// <param name="Outcome">How it ended.</param>
public sealed record ClusterLoginEnded(string LoginId, string Provider, string? Partition, LoginOutcome Outcome)
{
    /// <inheritdoc />
    public override string ToString() => $"ClusterLoginEnded {{ LoginId = {LoginId}, Provider = {Provider}, Kind = {Outcome.Kind} }}";
}
