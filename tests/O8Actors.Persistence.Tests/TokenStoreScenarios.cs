using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using O8Actors.Persistence.Tests.Support;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Persistence.Tests;

/// <summary>What every database must do; the SQLite and PostgreSQL test classes run these against a real one.</summary>
public static class TokenStoreScenarios
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly OAuthAccount Alice = new("sandbox", "alice");

    /// <summary>
    /// Sign in on one host, stop it, start a second on the same database and key ring (a new process's view): the
    /// account is listed and its token served with no request to the provider; the rows hold no token in plain text.
    /// </summary>
    /// <returns>The login's tokens, for the caller's own search of the database.</returns>
    public static async Task<TokenSet> RoundTripAsync(SandboxAuthorizationServer sandbox, Action<O8PersistenceOptions, Microsoft.Extensions.Configuration.IConfiguration> persistence,
        IDictionary<string, string?>? settings = null)
    {
        var ct = TestContext.Current.CancellationToken;
        var clientId = "persist-" + Guid.NewGuid().ToString("N");
        await using var browser = new ScriptedBrowser();
        TokenSet tokens;
        using (var first = PersistentHost.Build(sandbox, clientId, browser, persistence, settings))
        {
            await first.StartAsync(ct);
            var logins = first.Services.GetRequiredService<IOAuthLogins>();
            var redirect = await logins.GetRedirectUriAsync("sandbox", ct);
            sandbox.RegisterClient(clientId, null, [redirect.ToString()], ClientAuthMethod.None);
            var request = new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "alice" }) { AccountKey = "alice" };
            var outcome = Assert.IsType<LoginSucceeded>(await logins.RunAsync("sandbox", request, ct).WaitAsync(Wait, ct));
            Assert.Equal(Alice, outcome.Account);
            tokens = outcome.Tokens;
            Assert.NotNull(tokens.RefreshToken);
            await first.StopAsync(ct);
        }

        var authorizeRequests = sandbox.Counters.AuthorizeRequests;
        var tokenRequests = sandbox.Counters.TokenRequests;
        using (var second = PersistentHost.Build(sandbox, clientId, browser, persistence, settings))
        {
            await second.StartAsync(ct);
            var logins = second.Services.GetRequiredService<IOAuthLogins>();

            Assert.Equal([Alice], await logins.GetAccountsAsync("sandbox", ct));
            var served = await logins.GetAccessTokenAsync(Alice, cancellationToken: ct);

            Assert.Equal(tokens.AccessToken, served.Token);
            Assert.Equal(authorizeRequests, sandbox.Counters.AuthorizeRequests);
            Assert.Equal(tokenRequests, sandbox.Counters.TokenRequests);
            await second.StopAsync(ct);
        }

        return tokens;
    }

    /// <summary>
    /// Versions: each save needs the version it read; an older token set written after a newer one is refused and the
    /// newer stays; removal empties the account and unlists it.
    /// </summary>
    /// <summary>A DPoP-bound account keeps its key across a restart: its refreshes and API calls still sign with it.</summary>
    public static async Task DpopKeySurvivesARestartAsync(Action<O8PersistenceOptions> persistence)
    {
        var ct = TestContext.Current.CancellationToken;
        var carol = new OAuthAccount("sandbox", "carol");
        using var key = O8Actors.Dpop.DpopKey.Create();
        await using (var host = await StoreHost.StartAsync(persistence))
            Assert.Equal(1, await host.Store.SaveAsync(carol, Tokens("1") with { TokenType = "DPoP", DpopKey = key }, 0, ct));

        await using (var host = await StoreHost.StartAsync(persistence))
        {
            var stored = await host.Store.LoadAsync(carol, ct);
            Assert.Equal(key.ToJwk(), stored!.Tokens.DpopKey!.ToJwk());
        }
    }

    /// <summary>
    /// An account whose escaped id is longer than the journal's persistence_id column (varchar(255) in Akka.Persistence.Sql)
    /// saves, loads, lists and is removed like any other, also after a restart.
    /// </summary>
    public static async Task AnAccountWithALongKeyIsStoredAsync(Action<O8PersistenceOptions> persistence)
    {
        var ct = TestContext.Current.CancellationToken;
        // 60 characters, 360 once escaped (each "é" is %C3%A9).
        var dana = new OAuthAccount("sandbox", string.Concat(Enumerable.Repeat("é", 60)));
        await using (var host = await StoreHost.StartAsync(persistence))
        {
            Assert.Equal(1, await host.Store.SaveAsync(dana, Tokens("1"), 0, ct));
            Assert.Equal(2, await host.Store.SaveAsync(dana, Tokens("2"), 1, ct));
        }

        await using (var host = await StoreHost.StartAsync(persistence))
        {
            var stored = await host.Store.LoadAsync(dana, ct);
            Assert.Equal((2L, "refresh-2"), (stored!.Version, stored.Tokens.RefreshToken));
            Assert.Contains(dana, await host.Store.ListAsync("sandbox", ct));
            await host.Store.RemoveAsync(dana, ct);
            Assert.Null(await host.Store.LoadAsync(dana, ct));
        }
    }

    public static async Task RotationIsNeverUndoneAsync(Action<O8PersistenceOptions> persistence)
    {
        var ct = TestContext.Current.CancellationToken;
        var bob = new OAuthAccount("sandbox", "bob/with a slash");
        await using (var host = await StoreHost.StartAsync(persistence))
        {
            var store = host.Store;
            Assert.Equal(1, await store.SaveAsync(bob, Tokens("1"), 0, ct));
            Assert.Equal(2, await store.SaveAsync(bob, Tokens("2"), 1, ct));

            // A writer that read version 1 (before the rotation) comes late with its older refresh token.
            Assert.Null(await store.SaveAsync(bob, Tokens("1-late"), 1, ct));
            Assert.Null(await store.SaveAsync(bob, Tokens("0-late"), 0, ct));

            var stored = await store.LoadAsync(bob, ct);
            Assert.Equal(2, stored!.Version);
            Assert.Equal("refresh-2", stored.Tokens.RefreshToken);
            Assert.Contains(bob, await store.ListAsync("sandbox", ct));
        }

        // After a restart the version is the journal's: the late writer is still refused.
        await using (var host = await StoreHost.StartAsync(persistence))
        {
            var store = host.Store;
            Assert.Null(await store.SaveAsync(bob, Tokens("1-late"), 1, ct));
            Assert.Equal(3, await store.SaveAsync(bob, Tokens("3"), 2, ct));
            Assert.Equal("refresh-3", (await store.LoadAsync(bob, ct))!.Tokens.RefreshToken);

            await store.RemoveAsync(bob, ct);
            Assert.Null(await store.LoadAsync(bob, ct));
            Assert.DoesNotContain(bob, await store.ListAsync(cancellationToken: ct));
            Assert.Equal(1, await store.SaveAsync(bob, Tokens("again"), 0, ct));
        }
    }

    /// <summary>
    /// Tokens written under one Data Protection key ring and read under another (the ring was lost): they read as
    /// nothing stored, and a login's save (expecting version 0) goes over them, where the register refused it before and
    /// the account could never sign in again. A save expecting 0 over a readable payload is still refused.
    /// </summary>
    public static async Task TokensUnderALostKeyRingAreAsGoodAsAbsentAsync(Action<O8PersistenceOptions> persistence, string otherKeyRing)
    {
        var ct = TestContext.Current.CancellationToken;
        var dave = new OAuthAccount("sandbox", "dave");
        await using (var host = await WrittenUnderALostKeyRingAsync(persistence, otherKeyRing, dave))
        {
            var store = host.Store;
            var warned = WarningListener.Listen(host.System, "do not decrypt");
            Assert.Null(await store.LoadAsync(dave, ct));
            // As good as absent, but said: a key ring that is not the writer's looks like users signing out otherwise.
            Assert.Contains("Provider = sandbox, Key = dave", await warned.WaitAsync(TimeSpan.FromSeconds(10), ct), StringComparison.Ordinal);

            Assert.Equal(3, await store.SaveAsync(dave, Tokens("login"), 0, ct));

            var stored = await store.LoadAsync(dave, ct);
            Assert.Equal(3, stored!.Version);
            Assert.Equal("refresh-login", stored.Tokens.RefreshToken);
            Assert.Null(await store.SaveAsync(dave, Tokens("late"), 0, ct));
            Assert.Contains(dave, await store.ListAsync("sandbox", ct));
        }
    }

    /// <summary>
    /// A refresh read the account at version 1; since, its payload was written again under a key ring this process no
    /// longer has. The refresh's save (expecting 1) still goes over that payload, as FileTokenStore's does over a file
    /// that does not decrypt: refused, it read back as nothing stored, and the account actor dropped the rotated tokens.
    /// </summary>
    public static async Task ARefreshSavesOverTokensUnderALostKeyRingAsync(Action<O8PersistenceOptions> persistence, string otherKeyRing)
    {
        var ct = TestContext.Current.CancellationToken;
        var erin = new OAuthAccount("sandbox", "erin");
        await using (var host = await WrittenUnderALostKeyRingAsync(persistence, otherKeyRing, erin))
        {
            var store = host.Store;
            Assert.Equal(3, await store.SaveAsync(erin, Tokens("refreshed"), 1, ct));

            var stored = await store.LoadAsync(erin, ct);
            Assert.Equal(3, stored!.Version);
            Assert.Equal("refresh-refreshed", stored.Tokens.RefreshToken);
            // Readable now: a save expecting another version is refused again.
            Assert.Null(await store.SaveAsync(erin, Tokens("late"), 1, ct));
        }
    }

    /// <summary>Writes versions 1 and 2 of <paramref name="account"/>, then returns a host on the same database under another key ring.</summary>
    private static async Task<StoreHost> WrittenUnderALostKeyRingAsync(Action<O8PersistenceOptions> persistence, string otherKeyRing, OAuthAccount account)
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var host = await StoreHost.StartAsync(persistence))
        {
            Assert.Equal(1, await host.Store.SaveAsync(account, Tokens("1"), 0, ct));
            Assert.Equal(2, await host.Store.SaveAsync(account, Tokens("2"), 1, ct));
        }

        return await StoreHost.StartAsync(o =>
        {
            persistence(o);
            o.KeyRingFolder = otherKeyRing;
        });
    }

    private static TokenSet Tokens(string n) =>
        new("access-" + n, "Bearer", DateTimeOffset.UtcNow.AddHours(1), "refresh-" + n, "openid");
}
