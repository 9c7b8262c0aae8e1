using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Runtime;

namespace O8Actors.Tests.Flows;

/// <summary>
/// A caller awaiting a login when its actor system ends: the start or the supervisor's answer may then be lost in dead
/// letters with nobody left to read them. The caller's wait ends with the system, whatever became of those messages.
/// </summary>
public sealed class LoginCallerAtShutdownTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_login_whose_start_is_never_answered_ends_as_cancelled_when_the_actor_system_terminates()
    {
        // An app's own actor system, terminated under the login; its flows never answer (their messages are lost).
        var system = ActorSystem.Create("app-" + Guid.NewGuid().ToString("N"));
        var silent = system.ActorOf(Props.Create(() => new Silent()));
        var client = new LoginClient(system, new O8ActorRefs(silent, silent, silent, silent, silent, new AccountCache()), O8Options.FromConfig());
        using var cancel = new CancellationTokenSource();

        var login = client.AuthorizeAsync("github", cancellationToken: cancel.Token);
        await system.Terminate();
        cancel.Cancel(); // the caller's own cancel reaches no actor either

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => login.WaitAsync(Wait));
    }

    /// <summary>Takes every message and answers none.</summary>
    private sealed class Silent : ReceiveActor
    {
        public Silent() => ReceiveAny(_ => { });
    }
}
