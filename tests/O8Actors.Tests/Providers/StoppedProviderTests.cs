using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Configuration;
using O8Actors.Providers;
using O8Actors.Runtime;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A provider actor the registry stopped after repeated failures: every request that was waiting on it (the one it
/// failed on, those left in its mailbox, those sent after) is answered at once with a failure naming the provider,
/// rather than left to its caller's deadline; other providers go on.
/// </summary>
public sealed class StoppedProviderTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    // The callers' deadlines are minutes away: an answer within this is "at once", not a deadline that passed.
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CallerDeadline = TimeSpan.FromMinutes(5);
    private static readonly Uri RedirectUri = new("https://localhost:41539/");
    private const string Code = "the-authorization-code";
    private const string RefreshToken = "the-refresh-token";
    private const string DeviceCode = "the-device-code";

    private readonly FailingClients _clients = new(only: "p");

    private static readonly string[] KindNames =
        ["prepare", "browser-check", "exchange", "refresh", "device-code", "device-poll", "revoke", "end-session", "end-session-check", "user-info"];

    public static TheoryData<string> Kinds => new(KindNames);

    private object Request(string kind, string provider = "p")
    {
        var deadline = Sys.Scheduler.Now + CallerDeadline;
        return kind switch
        {
            "prepare" => new PrepareAuthorization(provider, kind, "state", null, RedirectUri, [], new Dictionary<string, string>()),
            "exchange" => new ExchangeCode(provider, kind, Code, "verifier", RedirectUri, Deadline: deadline),
            "refresh" => new RefreshTokens(provider, kind, RefreshToken, null, Deadline: deadline),
            "device-code" => new RequestDeviceCode(provider, kind, [], new Dictionary<string, string>()),
            "device-poll" => new PollDeviceToken(provider, kind, DeviceCode, Deadline: deadline),
            "revoke" => new RevokeTokens(provider, kind, RevokeTokens.Of(new TokenSet("the-access-token", "Bearer", RefreshToken: RefreshToken))),
            "end-session" => new PrepareEndSession(provider, kind, "state", RedirectUri, "the-id-token"),
            "end-session-check" => new CheckEndSession(provider, kind),
            "browser-check" => new CheckBrowserLogin(provider, kind, new Dictionary<string, string>()),
            _ => new FetchUserInfo(provider, kind, new UserInfoContext("the-access-token", "Bearer")),
        };
    }

    /// <summary>The answer's id, failure and reason, or a failed assertion when it is not the failure that request's sender waits for.</summary>
    private static (string Id, LoginFailure? Failure, string? Reason) Failure(object answer) => answer switch
    {
        ProviderUnavailable u => (u.LoginId, u.Failure, u.Reason),
        CodeExchangeFailed f => (f.LoginId, f.Failure, f.Reason),
        DeviceCodeRefused { Failure: var f } => (f.LoginId, f.Failure, f.Reason),
        RevocationDone { Outcome: RevocationOutcome.Failed } r => (r.RequestId, null, r.Reason),
        _ => throw new Xunit.Sdk.XunitException($"Answered with {answer}, not a failure."),
    };

    private static void AssertNamesTheStoppedProviderAndNoSecret(string? reason)
    {
        Assert.NotNull(reason);
        Assert.Contains("'p'", reason);
        Assert.Contains("stopped", reason);
        foreach (var secret in new[] { Code, RefreshToken, DeviceCode, "the-access-token", "the-id-token", "verifier" })
            Assert.DoesNotContain(secret, reason);
    }

    private async Task<IActorRef> RegistryWithProviders()
    {
        ListeningWatcher.Start(this);
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_clients.Create, 4, TimeSpan.FromSeconds(30)));
        foreach (var strategy in new[] { new ScriptedStrategy("p"), new ScriptedStrategy("q") { Gated = false } })
            Assert.Equal(strategy.Name, (await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait)).Provider);
        return registry;
    }

    /// <summary>Ten failures within a minute are restarts, each answering the request it failed on (the registry's supervision).</summary>
    private void RestartTenTimes(IActorRef registry)
    {
        for (var i = 1; i <= 10; i++)
        {
            registry.Tell(new ExchangeCode("p", $"restart-{i}", Code, null, RedirectUri));
            Assert.Contains("internal error", ExpectMsg<CodeExchangeFailed>(Wait).Reason);
        }
    }

    [Fact]
    public async Task A_provider_stopped_after_repeated_failures_answers_the_request_it_failed_on_and_each_one_left_in_its_mailbox_at_once()
    {
        var registry = await RegistryWithProviders();
        var provider = await Sys.ActorSelection(registry.Path / "provider-1-p").ResolveOne(Wait);
        Watch(provider);
        RestartTenTimes(registry);

        // The eleventh failure stops the actor. The requests of others, sent to it right behind that one, wait in its
        // mailbox (suspended while it fails) and reach dead letters when it stops.
        var failedOn = CreateTestProbe();
        var waiting = KindNames.Select(kind => (Kind: kind, Caller: CreateTestProbe())).ToList();
        failedOn.Send(provider, new ExchangeCode("p", "eleventh", Code, "verifier", RedirectUri, Deadline: Sys.Scheduler.Now + CallerDeadline));
        foreach (var (kind, caller) in waiting) caller.Send(provider, Request(kind));
        // And an app's own refresh, whose caller waits for minutes (its Ask's wait): through the registry, which forwards
        // it to the stopping actor or, once it heard of the stop, answers it itself; the same answer either way.
        var nobody = CreateTestProbe().Ref;
        var client = new LoginClient(Sys, new O8ActorRefs(nobody, registry, nobody, nobody, nobody, new AccountCache()), O8Options.FromConfig());
        var refresh = client.RefreshAsync("p", RefreshToken);
        ExpectTerminated(provider, Wait);

        var first = failedOn.ExpectMsg<CodeExchangeFailed>(Answer);
        Assert.Equal(("eleventh", LoginFailure.ProviderUnavailable), (first.LoginId, first.Failure));
        AssertNamesTheStoppedProviderAndNoSecret(first.Reason);
        foreach (var (kind, caller) in waiting)
        {
            var (id, failure, reason) = Failure(caller.ExpectMsg<object>(Answer));
            Assert.Equal(kind, id);
            if (failure is not null) Assert.Equal(LoginFailure.ProviderUnavailable, failure);
            AssertNamesTheStoppedProviderAndNoSecret(reason);
        }

        var refused = await Assert.ThrowsAsync<AuthorizationFailedException>(() => refresh.WaitAsync(Answer));
        Assert.Equal(LoginFailure.ProviderUnavailable, refused.Failure);
        AssertNamesTheStoppedProviderAndNoSecret(refused.Message);

        // Another provider of the same registry is undisturbed.
        registry.Tell(new ExchangeCode("q", "other", "q-code", null, RedirectUri));
        Assert.Equal("token-q-code", ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_request_for_a_provider_stopped_after_repeated_failures_fails_at_once_as_unavailable_naming_it(string kind)
    {
        var registry = await RegistryWithProviders();
        var provider = await Sys.ActorSelection(registry.Path / "provider-1-p").ResolveOne(Wait);
        Watch(provider);
        RestartTenTimes(registry);
        var failedOn = CreateTestProbe();
        failedOn.Send(registry, new ExchangeCode("p", "eleventh", Code, null, RedirectUri));
        failedOn.ExpectMsg<CodeExchangeFailed>(Answer);
        ExpectTerminated(provider, Wait);

        // Whether the registry has heard of the stop yet or still forwards to the stopped actor, the answer is the same.
        registry.Tell(Request(kind));

        var (id, failure, reason) = Failure(ExpectMsg<object>(Answer));
        Assert.Equal(kind, id);
        if (failure is not null) Assert.Equal(LoginFailure.ProviderUnavailable, failure);
        AssertNamesTheStoppedProviderAndNoSecret(reason);
        // Registered again, the provider serves again.
        Assert.Equal("p", (await registry.Ask<ProviderRegistered>(new RegisterProvider(new ScriptedStrategy("p") { Gated = false }), Wait)).Provider);
        _clients.Heal();
        registry.Tell(new ExchangeCode("p", "again", "p-code", null, RedirectUri));
        Assert.Equal("token-p-code", ExpectMsg<CodeExchanged>(Wait).Tokens.AccessToken);
    }
}
