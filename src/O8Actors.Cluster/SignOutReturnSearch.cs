using Akka.Actor;
using Akka.Cluster;
using O8Actors.Callback;
using O8Actors.Diagnostics;

namespace O8Actors.Cluster;

/// <summary>
/// Finds the node that waits for a sign-out's return. A server-mode sign-out (<c>BeginSignOutAsync</c>) runs its
/// browser step on the node that began it, while the provider may send the browser back to any node: the node it lands
/// on asks its own listener and the gateway of every other member that is up and reachable (<see cref="SignOutReturnHere"/>)
/// at once, and answers with the first page that is not the 400 of an unknown return, as soon as it comes. A state is
/// single use, so at most one node has it.
/// </summary>
/// <remarks>
/// Bounded: one ask per member, each with <see cref="AskTimeout"/>; a node that does not answer counts as not having it.
/// A member the failure detector marks unreachable is not asked: it could not answer, and its ask would hold a genuine
/// return for the whole timeout. Counted once: every node asked (this one's listener included) answers an unknown return
/// without counting it, and the search counts it here, as a single node's listener does, only when no node had it.
/// </remarks>
internal static class SignOutReturnSearch
{
    /// <summary>How long one node may take to answer (its listener answers at once; the sign-out's page follows a local message).</summary>
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    /// <param name="listener">This node's listener, asked first; null once it has stopped (the node is shutting down).</param>
    /// <param name="otherGateways">The other members' gateways (<see cref="MembersToAsk"/>).</param>
    /// <param name="state">The return's state.</param>
    /// <param name="path">The path it arrived on.</param>
    public static async Task<CallbackResponse> FindAsync(IActorRef? listener, IReadOnlyList<ActorSelection> otherGateways, string state, string? path)
    {
        // All at once, and the first page found answers: the browser waited for the slowest node before (a member that
        // runs no O8Actors, whose gateway is missing, or one just dead and not yet unreachable, answers only by timing
        // out), so the owner's page came 10 s late, or after the browser's own wait had given up on it.
        var asks = new List<Task<CallbackResponse?>>(otherGateways.Count + 1);
        if (listener is not null)
            asks.Add(AskAsync(() => listener.Ask<CallbackResponse>(new CallbackReceived(state, null, null, null, null, path) { Search = true }, AskTimeout)));
        var message = new SignOutReturnHere(state, path);
        foreach (var gateway in otherGateways) asks.Add(AskAsync(() => gateway.Ask<CallbackResponse>(message, AskTimeout)));

        while (asks.Count > 0)
        {
            var answered = await Task.WhenAny(asks).ConfigureAwait(false);
            asks.Remove(answered);
            if (await answered.ConfigureAwait(false) is { } page && IsFound(page)) return page;
        }

        O8Metrics.CallbackRejected(O8Metrics.MissingCodeAndErrorReason);
        return CallbackPages.Malformed;
    }

    /// <summary>
    /// The members whose gateways are asked: those that are <see cref="MemberStatus.Up"/>, not in
    /// <paramref name="unreachable"/>, and not <paramref name="self"/> (whose listener was asked first).
    /// </summary>
    public static IReadOnlyList<Address> MembersToAsk(IEnumerable<(Address Address, MemberStatus Status)> members, IEnumerable<Address> unreachable,
        Address self)
    {
        var skip = unreachable.ToHashSet();
        return members.Where(m => m.Status == MemberStatus.Up && !skip.Contains(m.Address) && !m.Address.Equals(self)).Select(m => m.Address).ToList();
    }

    private static bool IsFound(CallbackResponse? page) => page is not null && page != CallbackPages.Malformed;

    private static async Task<CallbackResponse?> AskAsync(Func<Task<CallbackResponse>> ask)
    {
        try
        {
            return await ask().ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or ActorNotFoundException)
        {
            return null;
        }
    }
}
