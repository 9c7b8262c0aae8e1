using System.Net;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using O8Actors.Cluster.Tests.Support;
using O8Actors.Flows;
using O8Actors.Hosting;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>One node that is a cluster of its own: the app started with WithOAuthLoginsCluster, shared by the tests of a class.</summary>
public sealed class SingleNodeCluster : IAsyncLifetime
{
    public ClusterNodes Nodes { get; private set; } = null!;

    public WebApplication Web { get; private set; } = null!;

    public Uri Root { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var https = ClusterNodes.FreePort();
        var akka = ClusterNodes.FreePort();
        var contact = ClusterNodes.FreePort();
        Root = new Uri($"https://127.0.0.1:{https}/");
        Nodes = await ClusterNodes.StartAsync(new Uri(Root, "/oauth/callback"));
        Web = await Nodes.StartNodeAsync("o8-single", https, builder => builder
            .WithRemoting("127.0.0.1", akka)
            // Bootstrap with itself as the one contact point: it forms a cluster of one.
            .WithBootstrapOnLoopback([contact], contact, requiredContactPoints: 1)
            // The app passivates its own idle entities quickly: that must not reach the logins' region.
            .AddHocon("akka.cluster.sharding.passivate-idle-entity-after = 1s", HoconAddMode.Prepend),
            // OpenID Connect: ID tokens validated against the sandbox's keys, so a login signs in an account (its subject).
            new Dictionary<string, string?>
            {
                ["O8:Providers:sandbox:JwksUri"] = Nodes.Sandbox.JwksUri.ToString(),
                ["O8:Providers:sandbox:UserInfoEndpoint"] = Nodes.Sandbox.UserInfoEndpoint.ToString(),
            });
    }

    public async ValueTask DisposeAsync()
    {
        await Web.StopAsync(CancellationToken.None);
        await Web.DisposeAsync();
        await Nodes.DisposeAsync();
    }

    /// <summary>The entity ids the logins' shard region holds now.</summary>
    public async Task<IReadOnlyList<string>> EntityIdsAsync()
    {
        var region = Web.Services.GetRequiredService<ActorRegistry>().Get<LoginShardRegionKey>();
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
        return state.Shards.SelectMany(s => s.EntityIds).ToList();
    }
}

/// <summary>
/// Issue 12 on one node: a server-mode login begun through <c>IOAuthConnector</c> runs as a sharded entity (not in the
/// node's own flows supervisor), is found by its callback through the state's routing id, and ends in one outcome;
/// sharding never resurrects a login.
/// </summary>
public sealed class SingleNodeClusterTests(SingleNodeCluster cluster) : IClassFixture<SingleNodeCluster>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private async Task<PendingLogin> ConnectAsync(HttpClient browser, string user)
    {
        using var response = await browser.PostAsync(new Uri(cluster.Root, $"/connect/sandbox?user={user}"), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return cluster.Nodes.Logins.Values.Single(l => l.AuthorizeUrl == response.Headers.Location);
    }

    /// <summary>Follows the authorize URL: the sandbox decides and redirects; the browser follows to the callback.</summary>
    private static async Task<(HttpResponseMessage Landing, Uri Callback)> AuthorizeAndReturnAsync(HttpClient browser, Uri authorizeUrl)
    {
        var ct = TestContext.Current.CancellationToken;
        using var authorize = await browser.GetAsync(authorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        var callback = authorize.Headers.Location!;
        return (await browser.GetAsync(callback, ct), callback);
    }

    [Fact]
    public async Task A_login_runs_as_a_sharded_entity_named_by_its_routing_id_and_signs_in()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        var login = await ConnectAsync(browser, "alice");

        // The state is {entity id}.{secret}; sharding holds the entity id alone, and the node's own supervisor runs nothing.
        var state = ClusterNodes.StateOf(login.AuthorizeUrl);
        Assert.True(LoginEntityIds.TryGetEntityId(state, out var entityId));
        Assert.Equal(LoginEntityIds.Length + 1 + 43, state.Length);
        var entities = await cluster.EntityIdsAsync();
        Assert.Contains(entityId, entities);
        Assert.DoesNotContain(entities, e => e.Contains(state[(LoginEntityIds.Length + 1)..], StringComparison.Ordinal));
        var started = await cluster.Web.Services.GetRequiredService<O8Runtime>().GetAsync(ct);
        Assert.Equal(0, (await started.Actors.Flows.Ask<FlowsInFlight>(GetFlowsInFlight.Instance, Wait, ct)).Count);
        // The entity's login runs as the node's own logins do: on O8Actors' flow dispatcher, with the compact mailbox.
        var flow = await started.System.ActorSelection($"/system/sharding/{new O8ClusterOptions().RegionName}/*/{entityId}/login")
            .ResolveOne(Wait, ct);
        var cell = (ActorCell)((ActorRefWithCell)flow).Underlying;
        Assert.Equal(O8Actors.Runtime.O8Dispatchers.FlowConfigPath, cell.Dispatcher.Id);
        Assert.IsType<FlowMessageQueue>(cell.Mailbox!.MessageQueue);

        var (landing, _) = await AuthorizeAndReturnAsync(browser, login.AuthorizeUrl);
        using (landing)
        {
            Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
            // The page came from the entity's login, which also clears this login's binding cookie.
            Assert.StartsWith($"__Host-o8-login-{login.LoginId}=;", Assert.Single(landing.Headers.GetValues("Set-Cookie")), StringComparison.Ordinal);
        }

        var success = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
        Assert.Equal(login.LoginId, success.LoginId);
        Assert.Equal("alice", ClusterNodes.Subject(success.Tokens.IdToken!));
        // The entity stops when its login ends.
        await Eventually.AssertAsync(async () => Assert.DoesNotContain(entityId, await cluster.EntityIdsAsync()), Wait);
    }

    [Fact]
    public async Task A_callback_naming_an_entity_no_node_holds_gets_the_expired_page_and_starts_no_login()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        var started = new List<LoginEvent>();
        var client = cluster.Web.Services.GetRequiredService<IOAuthLogins>();
        using var subscription = client.Events.Subscribe(new Recorder(started));
        var tokenRequests = cluster.Nodes.Sandbox.Counters.TokenRequests;
        var entityId = LoginEntityIds.Mint();
        using var rejected = new CounterRecorder("o8.callbacks.rejected");

        using var response = await browser.GetAsync(
            new Uri(cluster.Root, $"/oauth/callback/sandbox?state={entityId}.{FlowSecrets.RandomToken(32)}&code=forged"), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        // Counted once, as a single node's listener counts a state it does not hold.
        Assert.Equal(["1 reason=unknown_state"], rejected.Measurements);
        Assert.Contains("This sign-in has expired or is unknown. Start again from the application.", await response.Content.ReadAsStringAsync(ct),
            StringComparison.Ordinal);
        // The entity sharding made for the callback stopped; no login started and no code was redeemed.
        await Eventually.AssertAsync(async () => Assert.DoesNotContain(entityId, await cluster.EntityIdsAsync()), Wait);
        lock (started) Assert.DoesNotContain(started, e => e is LoginStartedEvent);
        Assert.Equal(tokenRequests, cluster.Nodes.Sandbox.Counters.TokenRequests);
    }

    [Fact]
    public async Task A_replayed_callback_after_the_login_succeeded_gets_the_expired_page()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        var login = await ConnectAsync(browser, "alice");
        var (landing, callback) = await AuthorizeAndReturnAsync(browser, login.AuthorizeUrl);
        landing.Dispose();
        Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
        var tokenRequests = cluster.Nodes.Sandbox.Counters.TokenRequests;
        using var rejected = new CounterRecorder("o8.callbacks.rejected");

        using var replay = await browser.GetAsync(callback, ct);

        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        // Before, a replayed cluster state was not counted at all; a single node counts it once, as unknown_state.
        Assert.Equal(["1 reason=unknown_state"], rejected.Measurements);
        Assert.Contains("expired or is unknown", await replay.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Equal(tokenRequests, cluster.Nodes.Sandbox.Counters.TokenRequests);
    }

    [Fact]
    public async Task A_late_callback_after_the_login_timed_out_gets_the_expired_page()
    {
        var ct = TestContext.Current.CancellationToken;
        var connector = cluster.Web.Services.GetRequiredService<IOAuthConnector>();
        var login = await connector.BeginAsync("sandbox", ClusterNodes.Hint("alice", TimeSpan.FromSeconds(3)), ct);

        Assert.IsType<LoginTimedOut>(await login.Outcome.WaitAsync(Wait, ct));

        using var browser = cluster.Nodes.Browser();
        using var late = await browser.GetAsync(new Uri(cluster.Root, $"/oauth/callback/sandbox?state={ClusterNodes.StateOf(login.AuthorizeUrl)}&code=late"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        Assert.Contains("expired or is unknown", await late.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_outcome_handler_runs_on_the_node_where_the_login_ended_with_its_login_provider_partition_and_outcome()
    {
        var ct = TestContext.Current.CancellationToken;
        var connector = cluster.Web.Services.GetRequiredService<IOAuthConnector>();
        var login = await connector.BeginAsync("sandbox", ClusterNodes.Hint("alice", TimeSpan.FromSeconds(3)) with { Partition = "user-42" }, ct);

        Assert.IsType<LoginTimedOut>(await login.Outcome.WaitAsync(Wait, ct));

        await Eventually.TrueAsync(() => cluster.Nodes.Handled.ContainsKey(login.LoginId), "the outcome handler ran");
        var (node, ended) = Assert.Single(cluster.Nodes.Handled[login.LoginId]);
        Assert.StartsWith("o8-single:", node, StringComparison.Ordinal);
        Assert.Equal(new ClusterLoginEnded(login.LoginId, "sandbox", "user-42", await login.Outcome), ended);
    }

    [Fact]
    public async Task A_login_for_a_provider_its_node_does_not_know_says_it_was_unknown_on_the_node_that_ran_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var connector = cluster.Web.Services.GetRequiredService<IOAuthConnector>();

        var unknown = await Assert.ThrowsAsync<UnknownProviderException>(() => connector.BeginAsync("nobody", ClusterNodes.Hint("alice"), ct));

        // The login ran on its entity's node, which may not be this one: the message says where the provider was missing.
        Assert.Equal("nobody", unknown.Provider);
        Assert.StartsWith("No OAuth provider named 'nobody' is registered on the node that ran this login.", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("same providers at start", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_state_without_a_routing_id_is_refused_as_unknown()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        using var response = await browser.GetAsync(new Uri(cluster.Root, $"/oauth/callback/sandbox?state={FlowSecrets.RandomToken(32)}&code=x"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("unknown or already used", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_state_without_code_or_error_gets_400_here_where_no_sign_out_waits()
    {
        // A provider's return after a sign-out carries a state and nothing else; the cluster's route has no sign-out to
        // hand it to, so it is the malformed request it always was, and no entity is asked.
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        using var response = await browser.GetAsync(new Uri(cluster.Root, $"/oauth/callback/sandbox?state={FlowSecrets.RandomToken(32)}"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not a valid sign-in redirect", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_claims_of_an_account_signed_in_on_the_cluster_come_from_UserInfo_with_its_entitys_token()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        var login = await ConnectAsync(browser, "dora");
        var (landing, _) = await AuthorizeAndReturnAsync(browser, login.AuthorizeUrl);
        landing.Dispose();
        var success = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
        // Remembered as its account before the outcome came back, as on a single node.
        Assert.Equal(new OAuthAccount("sandbox", "dora"), success.Account);

        var info = await cluster.Web.Services.GetRequiredService<IOAuthLogins>().GetUserInfoAsync(success.Account!, ct).WaitAsync(Wait, ct);

        Assert.Equal(success.Account, info.Account);
        Assert.Equal("dora", info.Subject);
    }

    [Fact]
    public async Task A_login_whose_beginning_node_never_gets_its_outcome_still_leaves_its_account_for_GetAccessTokenAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = cluster.Web.Services;
        var region = services.GetRequiredService<ActorRegistry>().Get<LoginShardRegionKey>();
        var system = services.GetRequiredService<ActorSystem>();
        // The beginning node stands in as an inbox: whatever it is told, nothing on it remembers the account (as when that
        // node died while its user was at the provider).
        using var beginner = Inbox.Create(system);
        var (secret, binding) = services.GetRequiredService<O8Actors.Binding.BrowserBindingVerifier>().Create();
        var entityId = LoginEntityIds.Mint();
        const string loginId = "orphaned-login";
        region.Tell(BeginLogin.For(entityId, loginId, "sandbox", ClusterNodes.Hint("gina"), binding, beginner.Receiver));
        // The node that took it says so at once, then its URL comes.
        Assert.Equal(new LoginTaken(loginId), await beginner.ReceiveAsync(Wait));
        var ready = Assert.IsType<LoginUrlReady>(await beginner.ReceiveAsync(Wait));

        // The user approves; the callback reaches the login's entity with the browser's binding secret.
        using var browser = cluster.Nodes.Browser();
        using var authorize = await browser.GetAsync(ready.AuthorizeUrl, ct);
        Assert.Equal(HttpStatusCode.Found, authorize.StatusCode);
        var callback = authorize.Headers.Location!;
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query);
        var page = await region.Ask<O8Actors.Callback.CallbackResponse>(new RoutedCallback(entityId, query["state"].Single()!, query["code"].Single(), null,
            null, query.TryGetValue("iss", out var iss) ? iss.Single() : null, callback.AbsolutePath,
            new Dictionary<string, string> { [loginId] = secret }), Wait, ct);
        Assert.Equal(200, page.StatusCode);

        // The entity reports a success that already names its account: it remembered it before reporting.
        var ended = Assert.IsType<LoginEnded>(await beginner.ReceiveAsync(Wait));
        var account = new OAuthAccount("sandbox", "gina");
        Assert.Equal(account, Assert.IsType<LoginSucceeded>(ended.Outcome.ToOutcome()).Account);
        // The outcome handler saw the account too.
        await Eventually.TrueAsync(() => cluster.Nodes.Handled.ContainsKey(loginId), "the login's outcome handler ran");
        Assert.Equal(account, Assert.IsType<LoginSucceeded>(Assert.Single(cluster.Nodes.Handled[loginId]).Ended.Outcome).Account);

        // Nobody on the beginning node stored anything, yet the account serves its token.
        var token = await services.GetRequiredService<IOAuthLogins>().GetAccessTokenAsync(account, cancellationToken: ct).WaitAsync(Wait, ct);
        Assert.Equal(account, token.Account);
    }

    [Fact]
    public async Task A_back_channel_logout_signs_out_the_account_entity_of_its_session()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        var login = await ConnectAsync(browser, "erin");
        var (landing, _) = await AuthorizeAndReturnAsync(browser, login.AuthorizeUrl);
        landing.Dispose();
        var success = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
        var sid = success.Tokens.IdTokenClaims!.All.Single(c => c.Type == "sid").Value;
        var logins = cluster.Web.Services.GetRequiredService<IOAuthLogins>();

        // The session only (no sub): found among the stored accounts, signed out through its entity.
        var result = await logins.HandleBackChannelLogoutAsync("sandbox", cluster.Nodes.Sandbox.CreateLogoutToken(cluster.Nodes.ClientId, null, sid), ct)
            .WaitAsync(Wait, ct);

        Assert.Equal([success.Account], result.SignedOut.Select(r => r.Account));
        Assert.DoesNotContain(success.Account!, await logins.GetAccountsAsync("sandbox", ct).WaitAsync(Wait, ct));
        await Assert.ThrowsAsync<InteractionRequiredException>(() => logins.GetAccessTokenAsync(success.Account!, cancellationToken: ct).WaitAsync(Wait, ct));
    }

    [Fact]
    public async Task Signing_out_of_the_providers_session_through_the_app_works_on_a_cluster()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        var login = await ConnectAsync(browser, "fred");
        var (landing, _) = await AuthorizeAndReturnAsync(browser, login.AuthorizeUrl);
        landing.Dispose();
        var account = Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct)).Account!;
        var connector = cluster.Web.Services.GetRequiredService<IOAuthConnector>();
        var ended = cluster.Nodes.Sandbox.EndedSessions.Count;
        using var signOuts = new CounterRecorder("o8.signouts");
        using var rejected = new CounterRecorder("o8.callbacks.rejected");

        var signOut = await connector.BeginSignOutAsync(account, cancellationToken: ct).WaitAsync(Wait, ct);

        Assert.NotNull(signOut.EndSessionUrl);
        Assert.False(signOut.Outcome.IsCompleted, "the result waits for the user's return");
        // Revoked and forgotten by the account's entity before the user is sent off.
        Assert.DoesNotContain(account, await cluster.Web.Services.GetRequiredService<IOAuthLogins>().GetAccountsAsync("sandbox", ct).WaitAsync(Wait, ct));
        using var atProvider = await browser.GetAsync(signOut.EndSessionUrl, ct);
        Assert.Equal(HttpStatusCode.Found, atProvider.StatusCode);
        using var back = await browser.GetAsync(atProvider.Headers.Location, ct);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Empty(rejected.Measurements);
        var result = await signOut.Outcome.WaitAsync(Wait, ct);
        Assert.Equal(ProviderSessionOutcome.Ended, result.ProviderSession);
        Assert.Equal(ended + 1, cluster.Nodes.Sandbox.EndedSessions.Count);
        // Counted once, with the provider-session step's outcome (the entity's half alone said not_requested; this
        // fixture's sandbox has no revocation endpoint configured).
        Assert.Equal(RevocationOutcome.NotSupported, result.Revocation);
        Assert.Equal(["1 revocation=not_supported provider_session=ended"], signOuts.Measurements);
        // A replay of the return finds nothing on any node.
        using var replay = await browser.GetAsync(atProvider.Headers.Location, ct);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Equal(["1 reason=missing_code_and_error"], rejected.Measurements);

        // The ID token stays with the entity: asking to send it is refused before anything changes.
        var error = await Assert.ThrowsAsync<NotSupportedException>(() =>
            connector.BeginSignOutAsync(account, new SignOutOptions(SendIdTokenHint: true), ct));
        Assert.Contains("SendIdTokenHint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_secret_with_a_live_logins_routing_id_does_not_reach_it_and_the_real_callback_still_signs_in()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        var login = await ConnectAsync(browser, "alice");
        Assert.True(LoginEntityIds.TryGetEntityId(ClusterNodes.StateOf(login.AuthorizeUrl), out var entityId));
        using var rejected = new CounterRecorder("o8.callbacks.rejected");

        using var forged = await browser.GetAsync(new Uri(cluster.Root, $"/oauth/callback/sandbox?state={entityId}.{FlowSecrets.RandomToken(32)}&code=x"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.False(login.Outcome.IsCompleted);

        var (landing, _) = await AuthorizeAndReturnAsync(browser, login.AuthorizeUrl);
        using (landing) Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
        // The forged one only.
        Assert.Equal(["1 reason=unknown_state"], rejected.Measurements);
    }

    [Fact]
    public async Task A_forwarded_authorize_URL_completed_in_another_browser_ends_as_BrowserMismatch_on_the_entitys_node()
    {
        var ct = TestContext.Current.CancellationToken;
        using var owner = cluster.Nodes.Browser();
        using var stranger = cluster.Nodes.Browser();
        var login = await ConnectAsync(owner, "alice");
        var tokenRequests = cluster.Nodes.Sandbox.Counters.TokenRequests;

        var (landing, _) = await AuthorizeAndReturnAsync(stranger, login.AuthorizeUrl);
        using (landing)
        {
            Assert.Equal(HttpStatusCode.BadRequest, landing.StatusCode);
            Assert.Contains("started in another browser", await landing.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }

        Assert.Equal(LoginFailure.BrowserMismatch, Assert.IsType<LoginFailed>(await login.Outcome.WaitAsync(Wait, ct)).Failure);
        Assert.Equal(tokenRequests, cluster.Nodes.Sandbox.Counters.TokenRequests);
    }

    [Fact]
    public async Task Cancelling_the_begin_token_cancels_the_login_on_its_entity()
    {
        var ct = TestContext.Current.CancellationToken;
        var connector = cluster.Web.Services.GetRequiredService<IOAuthConnector>();
        using var cancel = new CancellationTokenSource();
        var login = await connector.BeginAsync("sandbox", ClusterNodes.Hint("alice"), cancel.Token);
        Assert.True(LoginEntityIds.TryGetEntityId(ClusterNodes.StateOf(login.AuthorizeUrl), out var entityId));

        await cancel.CancelAsync();

        Assert.IsType<LoginCancelled>(await login.Outcome.WaitAsync(Wait, ct));
        await Eventually.AssertAsync(async () => Assert.DoesNotContain(entityId, await cluster.EntityIdsAsync()), Wait);
    }

    [Fact]
    public async Task A_login_that_waits_silently_longer_than_the_apps_idle_passivation_is_not_stopped_and_signs_in()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = cluster.Nodes.Browser();
        var login = await ConnectAsync(browser, "alice");
        Assert.True(LoginEntityIds.TryGetEntityId(ClusterNodes.StateOf(login.AuthorizeUrl), out var entityId));

        // Real time must pass with no message to the entity (the user is at the provider): three times the app's 1 s.
        await Task.Delay(TimeSpan.FromSeconds(3), ct);

        Assert.Contains(entityId, await cluster.EntityIdsAsync());
        Assert.False(login.Outcome.IsCompleted);
        var (landing, _) = await AuthorizeAndReturnAsync(browser, login.AuthorizeUrl);
        using (landing) Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        Assert.IsType<LoginSucceeded>(await login.Outcome.WaitAsync(Wait, ct));
    }

    [Fact]
    public void The_node_runs_the_keep_majority_split_brain_resolver_from_the_shipped_HOCON()
    {
        var config = cluster.Web.Services.GetRequiredService<ActorSystem>().Settings.Config;
        Assert.Equal("keep-majority", ClusterDefaults.Config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(20), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(typeof(Akka.Cluster.SBR.SplitBrainResolverProvider),
            Akka.Cluster.Cluster.Get(cluster.Web.Services.GetRequiredService<ActorSystem>()).DowningProvider.GetType());
        Assert.True(config.GetBoolean("o8.server-mode.routed"));
    }

    [Fact]
    public void Sharding_and_the_leave_phases_give_a_moving_account_all_the_time_its_hand_off_may_take()
    {
        var system = cluster.Web.Services.GetRequiredService<ActorSystem>();
        var o8 = O8Actors.Configuration.O8Settings.From(cluster.Web.Services.GetRequiredService<IOptions<O8Actors.Configuration.O8Options>>().Value);
        var accounts = new O8Actors.Accounts.AccountSettings(o8.RefreshMargin, o8.Login.ExchangeTimeout, o8.Login);
        var handOff = ClusterShardingSettings.Create(system).TuningParameters.HandOffTimeout;
        var shutdown = CoordinatedShutdown.Get(system);
        var leavePhase = shutdown.Timeout(CoordinatedShutdown.PhaseBeforeClusterShutdown);

        // An account told to move finishes its renewal (a refresh's rotated refresh token must be stored) for up to
        // HandOffWait. Sharding stops a shard's entities 5 s before its hand-off timeout, and a leaving node's regions
        // stop at its hand-off phase's end, or 1 s before sharding's own phase's: before, after 55 s and 40 s (the rotated
        // token of a refresh still under way was lost, its user signed out).
        Assert.True(handOff - TimeSpan.FromSeconds(5) >= accounts.HandOffWait, $"handoff-timeout {handOff} against {accounts.HandOffWait}");
        Assert.True(leavePhase >= accounts.HandOffWait, $"before-cluster-shutdown {leavePhase} against {accounts.HandOffWait}");
        Assert.True(shutdown.Timeout(CoordinatedShutdown.PhaseClusterShardingShutdownRegion) - TimeSpan.FromSeconds(1) >= leavePhase);
    }

    private sealed class Recorder(List<LoginEvent> into) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value)
        {
            lock (into) into.Add(value);
        }

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }
}
