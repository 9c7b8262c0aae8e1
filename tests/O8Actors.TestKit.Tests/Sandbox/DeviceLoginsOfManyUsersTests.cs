using O8Actors.Configuration;
using O8Actors.Providers;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// One process signing many users in with device logins at once (a chat bot, an agent platform): every login's events
/// name the account it signs in (<see cref="LoginEvent.AccountKey"/>), so each user is shown their own code, whether the
/// login was started by an account's token request or by the app itself.
/// </summary>
public sealed class DeviceLoginsOfManyUsersTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Each_device_code_event_names_the_account_its_login_signs_in()
    {
        await using var sandbox = await SandboxAuthorizationServer.StartAsync(new SandboxOptions { DevicePollInterval = TimeSpan.FromSeconds(1) });
        sandbox.RegisterClient("bot", null, ["http://127.0.0.1:1/sandbox"], ClientAuthMethod.None);
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            // Device logins only: nothing to bind.
            setup.Options.Listener.Start = ListenerStart.OnFirstUse;
            setup.Providers.Add(new OidcDiscoveryStrategy(new OidcDiscoveryOptions { Name = "sandbox", Issuer = sandbox.IssuerString, ClientId = "bot" }));
        });
        var events = new LoginEventRecorder();
        using var subscription = logins.Events.Subscribe(events);
        using var cancel = new CancellationTokenSource();
        // Users who never answer: the test reads their codes, then gives up.
        static AuthorizationRequest Device(string user) =>
            new(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "hang-" + user }) { Method = LoginMethod.Device };

        // Two accounts' token requests that need a sign-in, and a login the app starts itself for a third user.
        var alice = logins.GetAccessTokenAsync(new OAuthAccount("sandbox", "alice"),
            options: new AccessTokenOptions(AllowInteraction: true, Login: Device("alice")), cancellationToken: cancel.Token);
        var bob = logins.GetAccessTokenAsync(new OAuthAccount("sandbox", "bob"),
            options: new AccessTokenOptions(AllowInteraction: true, Login: Device("bob")), cancellationToken: cancel.Token);
        var carol = logins.RunAsync("sandbox", Device("carol") with { AccountKey = "carol" }, cancel.Token);

        var codes = new Dictionary<string, DeviceCodeIssuedEvent>();
        foreach (var user in new[] { "alice", "bob", "carol" })
            codes[user] = await events.WaitForAsync<DeviceCodeIssuedEvent>(e => e.AccountKey == user, Wait);

        Assert.Equal(3, codes.Values.Select(c => c.UserCode).Distinct().Count());
        Assert.Equal(3, codes.Values.Select(c => c.LoginId).Distinct().Count());
        // Every event of a login names its account, not only the code's.
        Assert.All(events.For(codes["bob"].LoginId), e => Assert.Equal("bob", e.AccountKey));
        // Kept out of what a log line would print, whatever the event's type: a key may name a person.
        Assert.All(events.For(codes["alice"].LoginId), e => Assert.DoesNotContain("alice", e.ToString(), StringComparison.Ordinal));

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => alice);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bob);
        Assert.IsType<LoginCancelled>(await carol.WaitAsync(Wait));
    }
}
