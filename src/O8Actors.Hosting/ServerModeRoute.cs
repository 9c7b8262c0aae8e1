using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using O8Actors.Binding;

namespace O8Actors.Hosting;

// The seam through which another package (O8Actors.Cluster) takes over where server-mode begins and callbacks go.
// Without it nothing changes: BeginAsync starts the login in this node's flows supervisor and MapOAuthCallback asks this
// node's listener. With it, both go to one node-local actor, the route, registered in the ActorRegistry under
// ServerModeRouteKey; it answers CallbackReceived as the listener does and runs BeginRoutedLogin.

/// <summary>Registry key of the actor that replaces the local listener and supervisor for server-mode begins and callbacks.</summary>
internal sealed class ServerModeRouteKey;

/// <summary>
/// Starts one server-mode login through the route. The route completes <paramref name="Url"/> when the authorize URL is
/// ready and <paramref name="Outcome"/> exactly once when the login ends (never faulted).
/// </summary>
internal sealed record BeginRoutedLogin(string LoginId, string Provider, AuthorizationRequest Request, BrowserBindingHash Binding,
    TaskCompletionSource<Uri> Url, TaskCompletionSource<LoginOutcome> Outcome)
{
    /// <summary>The parent of the login's span (the caller's activity when the message is made).</summary>
    public ActivityContext Parent { get; init; } = Activity.Current?.Context ?? default;

    /// <inheritdoc />
    public override string ToString() => $"BeginRoutedLogin {{ LoginId = {LoginId}, Provider = {Provider} }}";
}

/// <summary>Cancels a login begun through the route; it ends as Cancelled unless it already ended.</summary>
internal sealed record CancelRoutedLogin(string LoginId);

/// <summary>Finds the route, if one is switched on.</summary>
internal static class ServerModeRoute
{
    /// <summary>The HOCON flag a routing package sets (<c>o8.server-mode.routed = on</c>) to say its route will be registered.</summary>
    public const string RoutedPath = "o8.server-mode.routed";

    /// <summary>
    /// The route actor when <see cref="RoutedPath"/> is on (waiting for its registration, which may come from an Akka.Hosting
    /// starter that runs after WithOAuthLogins), otherwise null. Decided from the configuration, so no begin can slip to
    /// the local path while the route is still starting.
    /// </summary>
    public static Task<IActorRef?> Find(ActorSystem system, IActorRegistry registry) =>
        IsOn(system) ? WaitAsync(registry) : Task.FromResult<IActorRef?>(null);

    /// <summary>Whether <paramref name="system"/>'s server-mode logins go through a routing package's route (<see cref="RoutedPath"/>).</summary>
    public static bool IsOn(ActorSystem system)
    {
        var config = system.Settings.Config;
        return config.HasPath(RoutedPath) && config.GetBoolean(RoutedPath);
    }

    /// <summary>
    /// Why a provider is not registered at run time on a routed node: a routed login runs on any node, with that node's
    /// providers, so a provider only this node knows fails the logins that land elsewhere.
    /// </summary>
    public const string RuntimeProviderRefusal =
        "RegisterProviderAsync is not supported once O8Actors has started on a node whose logins are routed across a cluster " +
        "(O8Actors.Cluster): a login (or an account's refresh) runs on whichever node holds it, with that node's providers, so a " +
        "provider registered here alone would be unknown to the logins that run on the other nodes. Register every provider on " +
        "every node at start: in code (AddOAuthLogins(o => o.AddProvider(...))) or in the O8:Providers configuration section.";

    private static async Task<IActorRef?> WaitAsync(IActorRegistry registry) =>
        await registry.GetAsync<ServerModeRouteKey>().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
}
