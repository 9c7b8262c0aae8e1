using Akka.Actor;
using O8Actors.Callback;

namespace O8Actors.Cluster;

/// <summary>
/// Finds the node that waits for a sign-out's return. A server-mode sign-out (<c>BeginSignOutAsync</c>) runs its
/// browser step on the node that began it, while the provider may send the browser back to any node: the node it lands
/// on asks its own listener, then every other member's gateway (<see cref="SignOutReturnHere"/>), and answers with the
/// first page that is not the 400 of an unknown return. A state is single use, so at most one node has it.
/// </summary>
/// <remarks>Bounded: one ask per member, each with <see cref="AskTimeout"/>; a node that does not answer counts as not having it.</remarks>
internal static class SignOutReturnSearch
{
    /// <summary>How long one node may take to answer (its listener answers at once; the sign-out's page follows a local message).</summary>
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    public static async Task<CallbackResponse> FindAsync(IActorRef listener, IReadOnlyList<ActorSelection> otherGateways, string state, string? path)
    {
        var here = await AskAsync(() => listener.Ask<CallbackResponse>(new CallbackReceived(state, null, null, null, null, path), AskTimeout))
            .ConfigureAwait(false);
        if (here is not null && here != CallbackPages.Malformed) return here;
        var message = new SignOutReturnHere(state, path);
        var answers = await Task.WhenAll(otherGateways.Select(gateway => AskAsync(() => gateway.Ask<CallbackResponse>(message, AskTimeout))))
            .ConfigureAwait(false);
        return answers.FirstOrDefault(page => page is not null && page != CallbackPages.Malformed) ?? CallbackPages.Malformed;
    }

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
