using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Runtime;
using O8Actors.Tests.Providers;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A call whose token is cancelled before it starts does none of its work: an Ask sends its message whatever the state
/// of its token (only the returned task is cancelled), so without a check the account's actor would still start an
/// interactive login or sign out for a caller that has gone. Every actor of the client is one probe here, which must
/// hear nothing.
/// </summary>
public sealed class CancelledCallTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private static readonly OAuthAccount Account = new("github", "alice");
    private static readonly CancellationToken Cancelled = new(canceled: true);

    private (LoginClient Client, TestProbe Actors) Client()
    {
        var actors = CreateTestProbe();
        var refs = new O8ActorRefs(actors.Ref, actors.Ref, actors.Ref, actors.Ref, actors.Ref, new AccountCache());
        return (new LoginClient(Sys, refs, O8Options.FromConfig()), actors);
    }

    [Fact]
    public async Task An_interactive_token_request_already_cancelled_starts_no_login()
    {
        var (client, actors) = Client();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => client.GetAccessTokenAsync(Account, options: AccessTokenOptions.Interactive, cancellationToken: Cancelled).WaitAsync(Wait));

        // The account's actor never heard of it: no renewal, no login, no browser.
        actors.ExpectNoMsg(Quiet);
    }

    [Fact]
    public async Task A_sign_out_already_cancelled_leaves_the_account_signed_in()
    {
        var (client, actors) = Client();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => client.SignOutAsync(Account, Cancelled).WaitAsync(Wait));

        actors.ExpectNoMsg(Quiet); // no sign-out sent: nothing revoked, nothing forgotten
    }

    /// <summary>
    /// A login already cancelled starts nothing, and its caller hears it as a cancellation mid-login reads: RunAsync's
    /// LoginCancelled outcome (it threw before, so a caller's "is LoginCancelled" missed it), AuthorizeAsync's exception.
    /// </summary>
    [Fact]
    public async Task A_login_already_cancelled_starts_nothing_and_ends_as_a_cancellation_mid_login_does()
    {
        var (client, actors) = Client();

        var outcome = await client.RunAsync("github", cancellationToken: Cancelled).WaitAsync(Wait);
        Assert.IsType<LoginCancelled>(outcome);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.AuthorizeAsync("github", cancellationToken: Cancelled).WaitAsync(Wait));

        actors.ExpectNoMsg(Quiet);
    }

    public static TheoryData<string> OtherCalls => new(Calls.Keys);

    private static readonly Dictionary<string, Func<LoginClient, Task>> Calls = new()
    {
        ["GetAccessTokenAsync (silent)"] = c => c.GetAccessTokenAsync(Account, cancellationToken: Cancelled),
        ["GetUserInfoAsync"] = c => c.GetUserInfoAsync(Account, Cancelled),
        ["HandleBackChannelLogoutAsync"] = c => c.HandleBackChannelLogoutAsync("github", "logout-token", Cancelled),
        ["GetAccountsAsync"] = c => c.GetAccountsAsync(cancellationToken: Cancelled),
        ["BeginSignOut"] = c =>
        {
            var (_, signedOut) = c.BeginSignOut(Account, null, Cancelled);
            return signedOut;
        },
        ["RegisterProviderAsync"] = c => c.RegisterProviderAsync(new ScriptedStrategy("p"), Cancelled),
        ["UnregisterProviderAsync"] = c => c.UnregisterProviderAsync(new ScriptedStrategy("p"), cancellationToken: Cancelled),
        ["GetRedirectUriAsync"] = c => c.GetRedirectUriAsync(Cancelled),
        ["GetRedirectUriAsync (provider)"] = c => c.GetRedirectUriAsync("github", Cancelled),
        ["GetStatusAsync"] = c => c.GetStatusAsync(Cancelled),
    };

    [Theory]
    [MemberData(nameof(OtherCalls))]
    public async Task Every_other_call_already_cancelled_sends_nothing(string call)
    {
        var (client, actors) = Client();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Calls[call](client).WaitAsync(Wait));

        actors.ExpectNoMsg(Quiet);
    }
}
