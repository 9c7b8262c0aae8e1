using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Runtime;

namespace O8Actors.Tests.Flows;

/// <summary>
/// A caller awaiting a login when its actor system ends: the start or the supervisor's answer may then be lost in dead
/// letters with nobody left to read them. The caller's wait ends with the system, whatever became of those messages; so
/// does any other call's wait for an actor's answer (the termination does not end an Ask, which runs to its timeout).
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

    [Fact]
    public async Task A_login_that_succeeds_just_before_the_actor_system_terminates_is_not_held_by_its_unanswered_account_write()
    {
        var system = ActorSystem.Create("app-" + Guid.NewGuid().ToString("N"));
        var writes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The login succeeds at once; the account's actor takes its tokens' write (RememberLogin) and never answers.
        var flows = system.ActorOf(Props.Create(() => new Succeeding()));
        var accounts = system.ActorOf(Props.Create(() => new Silent(writes)));
        var silent = system.ActorOf(Props.Create(() => new Silent(null)));
        var client = new LoginClient(system, new O8ActorRefs(silent, silent, flows, silent, accounts, new AccountCache()), O8Options.FromConfig());

        var login = client.RunAsync("github", new AuthorizationRequest { AccountKey = "alice" });
        await writes.Task.WaitAsync(Wait);
        await system.Terminate();

        // Released with the system's end, not the write's 80 s timeout: the tokens are the caller's, without an account.
        var outcome = Assert.IsType<LoginSucceeded>(await login.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Null(outcome.Account);
        Assert.Equal("access", outcome.Tokens.AccessToken);
    }

    /// <summary>
    /// The caller cancels while its login's tokens are being stored (another process holds the store's lock, say): it is
    /// cancelled at once, as its token says, not kept waiting up to the renewal timeout (80 s) and then handed the tokens.
    /// </summary>
    [Fact]
    public async Task A_caller_that_cancels_while_its_logins_tokens_are_stored_is_cancelled_at_once()
    {
        var system = ActorSystem.Create("app-" + Guid.NewGuid().ToString("N"));
        try
        {
            var writes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var flows = system.ActorOf(Props.Create(() => new Succeeding()));
            var accounts = system.ActorOf(Props.Create(() => new Silent(writes)));
            var silent = system.ActorOf(Props.Create(() => new Silent(null)));
            var client = new LoginClient(system, new O8ActorRefs(silent, silent, flows, silent, accounts, new AccountCache()), O8Options.FromConfig());
            using var cancel = new CancellationTokenSource();

            var login = client.AuthorizeAsync("github", new AuthorizationRequest { AccountKey = "alice" }, cancel.Token);
            await writes.Task.WaitAsync(Wait);
            cancel.Cancel();

            var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => login.WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(cancel.Token, cancelled.CancellationToken);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>
    /// A caller cancelling a call that waits for an actor's answer (an interactive token request here) gets an exception
    /// carrying its own token, so its <c>catch (OperationCanceledException e) when (e.CancellationToken == token)</c>
    /// matches. Akka cancels an Ask without the token; only a token already cancelled on entry carried it before.
    /// </summary>
    [Fact]
    public async Task A_token_request_cancelled_while_it_waits_throws_with_the_callers_token()
    {
        var system = ActorSystem.Create("app-" + Guid.NewGuid().ToString("N"));
        try
        {
            var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var accounts = system.ActorOf(Props.Create(() => new Silent(asked)));
            var client = new LoginClient(system, new O8ActorRefs(accounts, accounts, accounts, accounts, accounts, new AccountCache()), O8Options.FromConfig());
            using var cancel = new CancellationTokenSource();

            var token = client.GetAccessTokenAsync(new OAuthAccount("github", "alice"), options: AccessTokenOptions.Interactive, cancellationToken: cancel.Token);
            await asked.Task.WaitAsync(Wait);
            cancel.Cancel();

            var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => token.WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(cancel.Token, cancelled.CancellationToken);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_token_request_waiting_when_the_actor_system_terminates_ends_at_once_as_stopped()
    {
        var system = ActorSystem.Create("app-" + Guid.NewGuid().ToString("N"));
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var accounts = system.ActorOf(Props.Create(() => new Silent(asked)));
        var client = new LoginClient(system, new O8ActorRefs(accounts, accounts, accounts, accounts, accounts, new AccountCache()), O8Options.FromConfig());

        // An interactive renewal may wait minutes for its login; the account's actor never answers.
        var token = client.GetAccessTokenAsync(new OAuthAccount("github", "alice"), options: AccessTokenOptions.Interactive);
        await asked.Task.WaitAsync(Wait);
        await system.Terminate();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => token.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("O8Actors has stopped", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_back_channel_logout_waiting_when_the_actor_system_terminates_ends_at_once_as_stopped()
    {
        var system = ActorSystem.Create("app-" + Guid.NewGuid().ToString("N"));
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The provider's actor takes the logout token's check and never answers (its wait is a token request's, 31 s).
        var providers = system.ActorOf(Props.Create(() => new Silent(asked)));
        var silent = system.ActorOf(Props.Create(() => new Silent(null)));
        var client = new LoginClient(system, new O8ActorRefs(silent, providers, silent, silent, silent, new AccountCache()), O8Options.FromConfig());

        var logout = client.HandleBackChannelLogoutAsync("github", "header.payload.signature");
        await asked.Task.WaitAsync(Wait);
        await system.Terminate();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => logout.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("O8Actors has stopped", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Completes every login it is asked to start as succeeded.</summary>
    private sealed class Succeeding : ReceiveActor
    {
        public Succeeding() => Receive<StartFlow>(start => start.Completion!.TrySetResult(new LoginSucceeded(start.LoginId, new TokenSet("access", "Bearer"))));
    }

    /// <summary>Takes every message and answers none.</summary>
    private sealed class Silent : ReceiveActor
    {
        public Silent() : this(null)
        {
        }

        /// <param name="heard">Completed when an account write (RememberLogin), a token request or a logout token's check arrives.</param>
        public Silent(TaskCompletionSource? heard) =>
            ReceiveAny(message =>
            {
                if (message is RememberLogin or GetAccessToken or O8Actors.Providers.ValidateLogoutToken) heard?.TrySetResult();
            });
    }
}
