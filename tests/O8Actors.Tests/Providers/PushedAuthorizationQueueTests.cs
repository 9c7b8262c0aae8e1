using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Microsoft.AspNetCore.Http;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A pushed authorization request (RFC 9126) is a POST to the provider, as a code exchange is: it takes one of
/// <c>max-concurrent-exchanges</c>' slots, so a burst of logins does not push all at once, and a login that ends while
/// its push waits is never pushed. The provider is a real Kestrel server whose pushed-request endpoint answers when the
/// test lets it.
/// </summary>
public sealed class PushedAuthorizationQueueTests : TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private static readonly Uri RedirectUri = new("http://127.0.0.1:41539/");
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _pushAnswers = new();
    private RecordingServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        // The pushed-request endpoint holds each push (named by its state) until the test answers it.
        _server.Handler = async (context, request) =>
        {
            if (request.Path != "/par")
            {
                context.Response.StatusCode = 404;
                return;
            }

            var state = request.Form["state"];
            await PushAnswer(state).Task.WaitAsync(context.RequestAborted);
            context.Response.StatusCode = StatusCodes.Status201Created;
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
            {
                ["request_uri"] = $"urn:ietf:params:oauth:request_uri:{state}",
                ["expires_in"] = 60,
            });
        };
    }

    public async Task DisposeAsync()
    {
        foreach (var answer in _pushAnswers.Values) answer.TrySetResult();
        await _server.DisposeAsync();
    }

    private TaskCompletionSource PushAnswer(string state) =>
        _pushAnswers.GetOrAdd(state, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private string[] PushedStates() => _server.Requests.Where(r => r.Path == "/par").Select(r => r.Form["state"]).ToArray();

    private IActorRef Provider(int maxConcurrent) =>
        Sys.ActorOf(ProviderActor.Props(EveryEndpointOn(_server), () => new HttpClient(), maxConcurrent, TimeSpan.FromSeconds(30)));

    private static PrepareAuthorization Prepare(string state) =>
        new("test", $"login-{state}", state, "challenge-of-" + state, RedirectUri, ["openid"], new Dictionary<string, string>());

    [Fact]
    public void With_one_slot_a_second_logins_push_waits_until_the_first_push_is_answered()
    {
        var (first, _) = SecondPushWaitsForTheFirst(Provider(maxConcurrent: 1));

        Assert.Contains("request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Afirst", first.Query);
    }

    /// <summary>
    /// Two logins prepared on a provider with one slot: the second's push is not sent while the first's runs, and both get
    /// their URLs once answered. Returns them.
    /// </summary>
    private (Uri First, Uri Second) SecondPushWaitsForTheFirst(IActorRef provider)
    {
        var first = CreateTestProbe();
        var second = CreateTestProbe();

        first.Send(provider, Prepare("first"));
        AwaitAssert(() => Assert.Equal(["first"], PushedStates()), Wait);
        second.Send(provider, Prepare("second"));

        // The first push holds the only slot: the second is not sent while it runs.
        second.ExpectNoMsg(Quiet);
        Assert.Equal(["first"], PushedStates());

        PushAnswer("first").SetResult();
        var firstUrl = first.ExpectMsg<AuthorizationPrepared>(Wait).AuthorizeUrl;
        AwaitAssert(() => Assert.Equal(["first", "second"], PushedStates()), Wait);
        PushAnswer("second").SetResult();
        var secondPrepared = second.ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.Equal("login-second", secondPrepared.LoginId);
        return (firstUrl, secondPrepared.AuthorizeUrl);
    }

    [Fact]
    public void A_push_waits_for_a_slot_a_code_exchange_holds()
    {
        var provider = Provider(maxConcurrent: 1);
        var exchanging = CreateTestProbe();
        var pushing = CreateTestProbe();
        // The token endpoint answers (400, invalid_grant) only once the push behind it has been seen not to start: it holds the slot meanwhile.
        var tokenAnswer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pushes = _server.Handler;
        _server.Handler = async (context, request) =>
        {
            if (request.Path != "/token")
            {
                await pushes(context, request);
                return;
            }

            await tokenAnswer.Task.WaitAsync(context.RequestAborted);
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = "invalid_grant" });
        };

        exchanging.Send(provider, new ExchangeCode("test", "login-exchanging", "code", "verifier", RedirectUri));
        AwaitAssert(() => Assert.Contains(_server.Requests, r => r.Path == "/token"), Wait);
        pushing.Send(provider, Prepare("pushing"));
        pushing.ExpectNoMsg(Quiet);
        Assert.Empty(PushedStates());

        tokenAnswer.SetResult();
        exchanging.ExpectMsg<CodeExchangeFailed>(Wait);
        AwaitAssert(() => Assert.Equal(["pushing"], PushedStates()), Wait);
        PushAnswer("pushing").SetResult();
        pushing.ExpectMsg<AuthorizationPrepared>(Wait);
    }

    /// <summary>
    /// A login that ends while its provider is still being discovered (the provider's first login, a slow identity
    /// provider) had its authorization prepared once discovery ended: a pushed request, with the client's credentials,
    /// went out for nobody. Taken back by the login (WithdrawExchange), it is never pushed; a live login beside it is.
    /// </summary>
    [Fact]
    public void A_login_that_ends_while_its_provider_is_discovered_is_never_pushed()
    {
        var discovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pushes = _server.Handler;
        _server.Handler = async (context, request) =>
        {
            if (request.Path != "/.well-known/openid-configuration")
            {
                await pushes(context, request);
                return;
            }

            await discovered.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
            {
                ["issuer"] = _server.BaseUrl,
                ["authorization_endpoint"] = _server.Url("/authorize").AbsoluteUri,
                ["token_endpoint"] = _server.Url("/token").AbsoluteUri,
                ["pushed_authorization_request_endpoint"] = _server.Url("/par").AbsoluteUri,
                ["response_types_supported"] = new[] { "code" },
                ["code_challenge_methods_supported"] = new[] { "S256" },
            });
        };
        var strategy = new OidcDiscoveryStrategy(new OidcDiscoveryOptions { Name = "test", Issuer = _server.BaseUrl, ClientId = "cid", ClientSecret = ClientSecret });
        var provider = Sys.ActorOf(ProviderActor.Props(strategy, () => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        var ended = CreateTestProbe();
        var live = CreateTestProbe();
        ended.Send(provider, Prepare("ended"));
        live.Send(provider, Prepare("live"));
        AwaitAssert(() => Assert.Contains(_server.Requests, r => r.Path == "/.well-known/openid-configuration"), Wait);

        ended.Send(provider, new WithdrawExchange("test", "login-ended"));
        Assert.Equal("login-ended", ended.ExpectMsg<ProviderUnavailable>(Wait).LoginId);
        discovered.SetResult();
        PushAnswer("live").SetResult();

        Assert.Equal("login-live", live.ExpectMsg<AuthorizationPrepared>(Wait).LoginId);
        Assert.Equal(["live"], PushedStates());
        ended.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_login_that_ends_while_its_push_waits_is_never_pushed()
    {
        var provider = Provider(maxConcurrent: 1);
        var first = CreateTestProbe();
        var ended = CreateTestProbe();
        var next = CreateTestProbe();

        first.Send(provider, Prepare("first"));
        AwaitAssert(() => Assert.Equal(["first"], PushedStates()), Wait);
        ended.Send(provider, Prepare("ended"));
        next.Send(provider, Prepare("next"));
        // The login ends (cancelled, timed out) while its push waits: its actor stops.
        Watch(ended.Ref);
        Sys.Stop(ended.Ref);
        ExpectTerminated(ended.Ref, Wait);

        PushAnswer("first").SetResult();
        first.ExpectMsg<AuthorizationPrepared>(Wait);
        AwaitAssert(() => Assert.Equal(["first", "next"], PushedStates()), Wait);
        PushAnswer("next").SetResult();
        next.ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.DoesNotContain("ended", PushedStates());
    }

    /// <summary>
    /// A code its user has just approved waits behind pushes of logins that have shown nobody anything yet: it goes
    /// first when a slot frees, so a burst of new logins does not make the ones under way miss their deadline.
    /// </summary>
    [Fact]
    public void A_code_exchange_queued_behind_pushes_is_sent_before_them()
    {
        var provider = Provider(maxConcurrent: 1);
        var first = CreateTestProbe();
        var waiting = CreateTestProbe();
        var exchanging = CreateTestProbe();

        first.Send(provider, Prepare("first"));
        AwaitAssert(() => Assert.Equal(["first"], PushedStates()), Wait);
        waiting.Send(provider, Prepare("waiting"));
        exchanging.Send(provider, new ExchangeCode("test", "login-exchanging", "code", "verifier", RedirectUri));
        exchanging.ExpectNoMsg(Quiet);

        PushAnswer("first").SetResult();
        first.ExpectMsg<AuthorizationPrepared>(Wait);
        // The exchange took the slot (the stand-in token endpoint refuses it), and only then the push.
        exchanging.ExpectMsg<CodeExchangeFailed>(Wait);
        Assert.Equal(["/par", "/token", "/par"], PathsSoFar(3));
        PushAnswer("waiting").SetResult();
        waiting.ExpectMsg<AuthorizationPrepared>(Wait);
    }

    [Fact]
    public void A_token_request_meeting_a_full_queue_takes_the_place_of_the_latest_queued_push()
    {
        var provider = Sys.ActorOf(ProviderActor.Props(EveryEndpointOn(_server), () => new HttpClient(), 1, TimeSpan.FromSeconds(30),
            maxQueuedExchanges: 1));
        var first = CreateTestProbe();
        var pushing = CreateTestProbe();
        var exchanging = CreateTestProbe();

        first.Send(provider, Prepare("first"));
        AwaitAssert(() => Assert.Equal(["first"], PushedStates()), Wait);
        pushing.Send(provider, Prepare("pushing"));
        exchanging.Send(provider, new ExchangeCode("test", "login-exchanging", "code", "verifier", RedirectUri));

        var refused = pushing.ExpectMsg<ProviderUnavailable>(Wait);
        Assert.Equal(LoginFailure.ExchangeQueueFull, refused.Failure);
        Assert.Contains("the pushed authorization request was not sent", refused.Reason);
        PushAnswer("first").SetResult();
        first.ExpectMsg<AuthorizationPrepared>(Wait);
        exchanging.ExpectMsg<CodeExchangeFailed>(Wait); // sent: the stand-in token endpoint refuses it
        Assert.Equal(["first"], PushedStates());
    }

    /// <summary>The paths of the first <paramref name="count"/> requests the server saw, once it has seen that many.</summary>
    private string[] PathsSoFar(int count)
    {
        AwaitCondition(() => _server.Requests.Count >= count, Wait, Polling.Interval);
        return _server.Requests.Take(count).Select(r => r.Path).ToArray();
    }

    [Fact]
    public void A_push_refused_by_a_full_queue_fails_its_login_saying_the_push_was_not_sent()
    {
        var provider = Sys.ActorOf(ProviderActor.Props(EveryEndpointOn(_server), () => new HttpClient(), 1, TimeSpan.FromSeconds(30),
            maxQueuedExchanges: 0));
        var first = CreateTestProbe();
        var refused = CreateTestProbe();

        first.Send(provider, Prepare("first"));
        AwaitAssert(() => Assert.Equal(["first"], PushedStates()), Wait);
        refused.Send(provider, Prepare("refused"));

        var failed = refused.ExpectMsg<ProviderUnavailable>(Wait);
        Assert.Equal(LoginFailure.ExchangeQueueFull, failed.Failure);
        Assert.Contains("the pushed authorization request was not sent", failed.Reason);
        PushAnswer("first").SetResult();
        first.ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.Equal(["first"], PushedStates());
    }

    /// <summary>
    /// A strategy of the app's own that pushes its authorize requests (its <c>BuildAuthorizeUrlAsync</c> posts them) and
    /// says so: its pushes take the slots as the built-in strategies' do.
    /// </summary>
    [Fact]
    public void An_apps_own_strategy_that_says_it_pushes_waits_for_a_slot_too()
    {
        var provider = Sys.ActorOf(ProviderActor.Props(new PushingStrategyOfTheAppsOwn(_server.Url("/par")), () => new HttpClient(), 1,
            TimeSpan.FromSeconds(30)));

        var (_, second) = SecondPushWaitsForTheFirst(provider);

        Assert.Equal("request_uri=second", second.Query.TrimStart('?'));
    }

    /// <summary>An app's strategy that posts each login's state to its provider before it hands out the URL.</summary>
    private sealed class PushingStrategyOfTheAppsOwn(Uri pushEndpoint) : ProviderStrategy
    {
        public override string Name => "test";

        public override bool AuthorizeUrlSendsARequest => true;

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => throw new NotSupportedException("This provider takes pushed requests only.");

        public override async Task<Uri> BuildAuthorizeUrlAsync(AuthorizeUrlContext context, HttpClient http, CancellationToken cancellationToken)
        {
            using var pushed = await http.PostAsync(pushEndpoint, new FormUrlEncodedContent([new("state", context.State)]), cancellationToken);
            pushed.EnsureSuccessStatusCode();
            return new Uri($"https://provider.test/authorize?request_uri={Uri.EscapeDataString(context.State)}");
        }

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            throw new NotSupportedException("Not used here.");
    }
}
