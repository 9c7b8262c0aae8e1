using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Tests.Certificates;
using O8Actors.Tests.Support;
using Xunit.Abstractions;

namespace O8Actors.Tests.Callback;

/// <summary>The listener actor with real Kestrel on loopback (free ports) and a real mkcert certificate.</summary>
public sealed class CallbackServerActorTests : Akka.TestKit.Xunit2.TestKit, IClassFixture<MkcertFolderFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    // One client for the class: the mkcert CA is in the system store, so default validation must pass.
    private static readonly HttpClient Client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    private readonly MkcertFolderFixture _mkcert;
    private readonly ITestOutputHelper _output;

    public CallbackServerActorTests(MkcertFolderFixture mkcert, ITestOutputHelper output) : base(output: output)
    {
        _mkcert = mkcert;
        _output = output;
    }

    [Fact]
    public async Task A_registered_state_routes_the_callback_and_the_page_comes_from_the_flow()
    {
        var (listener, redirect) = await StartAsync(Options());
        var flow = CreateTestProbe();
        var registered = await RegisterAsync(flow, listener, "state-1", "flow-1");
        Assert.Equal(redirect, registered);
        Assert.Equal($"https://localhost:{redirect.Port}/", registered.ToString());

        var pending = Client.GetAsync(new Uri(registered, "?code=the-code&state=state-1&iss=https%3A%2F%2Fissuer.example%2F"));
        var callback = await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
        Assert.Equal(new AuthorizationCallback("flow-1", "the-code", null, null, "https://issuer.example/", "/"), callback);
        Assert.False(pending.IsCompleted, "the page must wait for the flow's answer");
        flow.Reply(new CallbackResponse(200, CallbackPageKind.Success, "Signed in as <Ada>"));

        using var response = await pending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertSecurityHeaders(response);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("You are signed in. You can close this tab.", html);
        Assert.Contains("Signed in as &lt;Ada&gt;", html);
        Assert.Equal(0, (await StatusAsync(listener)).RegisteredStates);
    }

    [Fact]
    public async Task A_callback_on_a_providers_own_path_reaches_its_login_with_the_path_it_arrived_on()
    {
        var (listener, _) = await StartAsync(Options());
        var flow = CreateTestProbe();
        var uri = await RegisterAsync(flow, listener, "s-path", "flow-path");

        // The listener routes by state; the login compares the path with its provider's (FlowActorTests).
        var pending = Client.GetAsync(new Uri(uri, "/github?code=c&state=s-path"));
        var callback = await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
        Assert.Equal("/github", callback.Path);
        flow.Reply(new CallbackResponse(400, CallbackPageKind.Failed, "wrong path"));
        using var response = await pending;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_provider_error_reaches_the_flow_decoded()
    {
        var (listener, _) = await StartAsync(Options());
        var flow = CreateTestProbe();
        var uri = await RegisterAsync(flow, listener, "s-err", "flow-err");

        var pending = Client.GetAsync(new Uri(uri, "?error=access_denied&error_description=User+said+%22no%22&state=s-err"));
        var callback = await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
        Assert.Equal(new AuthorizationCallback("flow-err", null, "access_denied", "User said \"no\"", null, "/"), callback);
        flow.Reply(new CallbackResponse(403, CallbackPageKind.Denied, "access_denied"));

        using var response = await pending;
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("denied", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_replayed_state_gets_400_and_never_reaches_the_flow()
    {
        var (listener, _) = await StartAsync(Options());
        var flow = CreateTestProbe();
        var uri = new Uri(await RegisterAsync(flow, listener, "once", "flow-once"), "?code=c&state=once");
        var first = Client.GetAsync(uri);
        await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
        flow.Reply(new CallbackResponse(200, CallbackPageKind.Success, ""));
        (await first).Dispose();

        using var replay = await Client.GetAsync(uri);

        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        AssertSecurityHeaders(replay);
        Assert.Contains("unknown or already used", await replay.Content.ReadAsStringAsync());
        await flow.ExpectNoMsgAsync(Quiet);
    }

    [Theory]
    [InlineData("GET", "/?code=c&state=not-registered", 400)]
    [InlineData("GET", "/?code=c", 400)]
    [InlineData("GET", "/?code=c&state=", 400)]
    [InlineData("GET", "/", 400)]
    [InlineData("GET", "/?state={state}", 400)]
    [InlineData("GET", "/?code=a&code=b&state={state}", 400)]
    [InlineData("GET", "/?code=a&state={state}&state={state}", 400)]
    [InlineData("GET", "/favicon.ico", 400)]
    [InlineData("HEAD", "/?code=c&state={state}", 405)]
    [InlineData("OPTIONS", "/?code=c&state={state}", 405)]
    [InlineData("POST", "/?code=c&state={state}", 405)]
    public async Task Stray_requests_get_their_status_and_touch_no_login(string method, string pathAndQuery, int status)
    {
        var (listener, redirect) = await StartAsync(Options());
        var flow = CreateTestProbe();
        await RegisterAsync(flow, listener, "live-state", "flow-live");
        using var request = new HttpRequestMessage(new HttpMethod(method),
            new Uri(redirect, pathAndQuery.Replace("{state}", "live-state", StringComparison.Ordinal)));
        if (method == "POST") request.Content = new StringContent("code=c&state=live-state");

        // Any local process can send these as fast as it likes: a Warning each would flood the app's log.
        var response = await EventFilter.Warning().ExpectAsync(0, async () =>
        {
            var sent = await Client.SendAsync(request);
            await flow.ExpectNoMsgAsync(Quiet);
            return sent;
        });
        using var _ = response;

        Assert.Equal(status, (int)response.StatusCode);
        AssertSecurityHeaders(response);
        if (status == 405) Assert.Equal("GET", string.Join(",", response.Content.Headers.Allow));
        Assert.Equal(1, (await StatusAsync(listener)).RegisteredStates);
    }

    [Fact]
    public async Task A_sign_outs_return_carries_only_the_state_and_reaches_its_registrant_once()
    {
        var (listener, redirect) = await StartAsync(Options());
        var signOut = CreateTestProbe();
        signOut.Send(listener, new RegisterState("bye-state", "end-session-1") { ForSignOut = true });
        await signOut.ExpectMsgAsync<StateRegistered>(Wait);

        var pending = Client.GetAsync(new Uri(redirect, "/github?state=bye-state"));
        var returned = await signOut.ExpectMsgAsync<SignOutReturned>(Wait);
        Assert.Equal(new SignOutReturned("end-session-1", "/github"), returned);
        signOut.Reply(CallbackPages.SignedOut);
        using var response = await pending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertSecurityHeaders(response);
        Assert.Contains("You are signed out", await response.Content.ReadAsStringAsync());

        // Single use, as a login's state.
        using var replay = await Client.GetAsync(new Uri(redirect, "/github?state=bye-state"));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        await signOut.ExpectNoMsgAsync(Quiet);
    }

    [Theory]
    [InlineData("/?code=c&state=bye-state")]
    [InlineData("/?error=access_denied&state=bye-state")]
    public async Task A_code_or_an_error_for_a_sign_out_state_is_refused_and_leaves_the_state(string pathAndQuery)
    {
        // A sign-out's state leaked from the browser (history, the provider's logs) must not become a way to hand the
        // app a code, or to end the sign-out early.
        var (listener, redirect) = await StartAsync(Options());
        var signOut = CreateTestProbe();
        signOut.Send(listener, new RegisterState("bye-state", "end-session-1") { ForSignOut = true });
        await signOut.ExpectMsgAsync<StateRegistered>(Wait);

        using var response = await Client.GetAsync(new Uri(redirect, pathAndQuery));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not a valid sign-in redirect", await response.Content.ReadAsStringAsync());
        await signOut.ExpectNoMsgAsync(Quiet);
        Assert.Equal(1, (await StatusAsync(listener)).RegisteredStates);
    }

    [Fact]
    public async Task A_host_header_that_is_not_loopback_gets_400_and_touches_no_login()
    {
        var (listener, redirect) = await StartAsync(Options());
        var flow = CreateTestProbe();
        await RegisterAsync(flow, listener, "rebind", "flow-rebind");
        // The TLS name check would refuse evil.example before the request is sent; accept only that mismatch.
        using var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, errors) =>
                (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None },
        };
        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(redirect, "?code=c&state=rebind"));
        request.Headers.Host = "evil.example";

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertSecurityHeaders(response);
        await flow.ExpectNoMsgAsync(Quiet);
        Assert.Equal(1, (await StatusAsync(listener)).RegisteredStates);
    }

    [Fact]
    public async Task A_flow_that_dies_has_its_states_forgotten()
    {
        var (listener, _) = await StartAsync(Options());
        var flow = CreateTestProbe();
        var uri = await RegisterAsync(flow, listener, "dies-1", "flow-dies");
        await RegisterAsync(flow, listener, "dies-2", "flow-dies");
        Assert.Equal(2, (await StatusAsync(listener)).RegisteredStates);

        Sys.Stop(flow.Ref);
        await AwaitAssertAsync(async () => Assert.Equal(0, (await StatusAsync(listener)).RegisteredStates), Wait);

        using var response = await Client.GetAsync(new Uri(uri, "?code=c&state=dies-1"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_registrant_that_opts_out_of_the_watch_is_not_forgotten_by_its_death_but_its_browser_still_gets_a_page()
    {
        ListeningWatcher.Start(this); // as in every O8Actors system: it answers callbacks that reach no login
        var (listener, _) = await StartAsync(Options());
        var flow = CreateTestProbe();
        var uri = await RegisterAsync(flow, listener, "self-managed", "flow-self", watch: false);

        // Not watched while it waits: its death alone does not clear the state (a FlowActor unregisters in PostStop).
        Watch(flow.Ref);
        Sys.Stop(flow.Ref);
        await ExpectTerminatedAsync(flow.Ref, Wait);
        await ExpectNoMsgAsync(Quiet); // time for a Terminated to arrive, if the listener were watching
        Assert.Equal(1, (await StatusAsync(listener)).RegisteredStates);

        // A callback for it is still answered at once: it reaches dead letters, and the watcher gives the browser its page.
        using var response = await Client.GetAsync(new Uri(uri, "?code=c&state=self-managed"));
        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Contains("has already ended", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, (await StatusAsync(listener)).RegisteredStates);
    }

    [Fact]
    public async Task The_login_answers_the_browser_request_itself()
    {
        var (listener, _) = await StartAsync(Options());
        var flow = CreateTestProbe();
        var uri = await RegisterAsync(flow, listener, "direct", "flow-direct");
        var pending = Client.GetAsync(new Uri(uri, "?code=c&state=direct"));
        await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);

        // The sender of the routed callback is the browser request's Ask, not the listener: the page goes straight there.
        Assert.NotEqual(listener, flow.LastSender);
        flow.LastSender.Tell(new CallbackResponse(403, CallbackPageKind.Denied, "no"));

        using var response = await pending;
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        AssertSecurityHeaders(response);
    }

    [Fact]
    public async Task A_flow_that_never_answers_gives_the_browser_a_504_after_the_exchange_timeout()
    {
        var options = Options();
        options.Login.ExchangeTimeout = TimeSpan.FromMilliseconds(10); // the least allowed; the Ask waits this plus a 5 s margin
        var (listener, _) = await StartAsync(options);
        var flow = CreateTestProbe();
        var uri = await RegisterAsync(flow, listener, "slow", "flow-slow");
        var clock = Stopwatch.StartNew();

        using var response = await Client.GetAsync(new Uri(uri, "?code=c&state=slow"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        AssertSecurityHeaders(response);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(15));
        await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
    }

    [Fact]
    public async Task A_finished_login_leaves_no_dead_letters()
    {
        var (listener, _) = await StartAsync(Options());
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe(deadLetters.Ref, typeof(DeadLetter));
        var flow = CreateTestProbe();
        var uri = await RegisterAsync(flow, listener, "clean", "flow-clean");
        var pending = Client.GetAsync(new Uri(uri, "?code=c&state=clean"));
        await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
        flow.Reply(new CallbackResponse(200, CallbackPageKind.Success, ""));
        (await pending).Dispose();

        // The flow ends after answering, as a FlowActor does; the listener must not answer that browser twice.
        Watch(flow.Ref);
        Sys.Stop(flow.Ref);
        await ExpectTerminatedAsync(flow.Ref, Wait);
        await AwaitAssertAsync(async () => Assert.Equal(0, (await StatusAsync(listener)).RegisteredStates), Wait);

        await deadLetters.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task An_unregistered_state_is_forgotten()
    {
        var (listener, _) = await StartAsync(Options());
        var flow = CreateTestProbe();
        var uri = await RegisterAsync(flow, listener, "gone", "flow-gone");

        flow.Send(listener, new UnregisterState("gone", "flow-gone"));
        await AwaitAssertAsync(async () => Assert.Equal(0, (await StatusAsync(listener)).RegisteredStates), Wait);

        using var response = await Client.GetAsync(new Uri(uri, "?code=c&state=gone"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await flow.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task A_registrant_that_knows_the_redirect_URI_gets_no_answer_but_its_callbacks_and_refusals_still_reach_it()
    {
        var (listener, redirect) = await StartAsync(Options());
        var flow = CreateTestProbe();

        flow.Send(listener, new RegisterState("state-quiet", "flow-quiet", WatchRegistrant: false, Acknowledge: false));
        var pending = Client.GetAsync(new Uri(redirect, "?code=the-code&state=state-quiet"));

        // The first message it gets is its callback: no StateRegistered came before it.
        var callback = await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
        Assert.Equal("flow-quiet", callback.LoginId);
        flow.Reply(CallbackPages.SignedIn);
        using (var response = await pending) Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // A refusal is always answered: a second login that does not wait hears that its state is taken.
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        await RegisterAsync(first, listener, "taken", "flow-a");
        await EventFilter.Warning(contains: "refused a duplicate state registration for login flow-b").ExpectAsync(1, async () =>
        {
            second.Send(listener, new RegisterState("taken", "flow-b", WatchRegistrant: false, Acknowledge: false));
            Assert.Equal("flow-b", (await second.ExpectMsgAsync<StateRegistrationRefused>(Wait)).LoginId);
        });
    }

    [Fact]
    public async Task A_state_registered_by_another_login_is_refused()
    {
        var (listener, _) = await StartAsync(Options());
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        await RegisterAsync(first, listener, "shared", "flow-a");

        // An expected warning: matched here rather than printed as if something went wrong.
        var refused = await EventFilter.Warning(contains: "refused a duplicate state registration for login flow-b").ExpectAsync(1, async () =>
        {
            second.Send(listener, new RegisterState("shared", "flow-b"));
            return await second.ExpectMsgAsync<StateRegistrationRefused>(Wait);
        });
        Assert.Equal("flow-b", refused.LoginId);
        Assert.Equal(1, (await StatusAsync(listener)).RegisteredStates);
    }

    [Fact]
    public async Task IPv6_loopback_is_served_on_the_same_port()
    {
        var (listener, redirect) = await StartAsync(Options());
        var flow = CreateTestProbe();
        await RegisterAsync(flow, listener, "v6", "flow-v6");

        var pending = Client.GetAsync(new Uri($"https://[::1]:{redirect.Port}/?code=c6&state=v6"));
        var callback = await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
        Assert.Equal("c6", callback.Code);
        flow.Reply(new CallbackResponse(200, CallbackPageKind.Success, ""));

        using var response = await pending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task HTTP2_callbacks_work_as_browsers_send_them()
    {
        var (listener, _) = await StartAsync(Options());
        var flow = CreateTestProbe();
        var uri = await RegisterAsync(flow, listener, "h2", "flow-h2");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(uri, "?code=c2&state=h2"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        var pending = Client.SendAsync(request);
        Assert.Equal("c2", (await flow.ExpectMsgAsync<AuthorizationCallback>(Wait)).Code);
        flow.Reply(new CallbackResponse(200, CallbackPageKind.Success, ""));

        using var response = await pending;
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertSecurityHeaders(response);
    }

    [Fact]
    public async Task Plain_http_and_a_custom_path_work()
    {
        var (listener, redirect) = await StartAsync(Options(scheme: "http", path: "/oauth/callback"));
        Assert.Equal($"http://localhost:{redirect.Port}/oauth/callback", redirect.ToString());
        var flow = CreateTestProbe();
        await RegisterAsync(flow, listener, "plain", "flow-plain");

        using (var wrongPath = await Client.GetAsync(new Uri(redirect, "/?code=c&state=plain")))
            Assert.Equal(HttpStatusCode.NotFound, wrongPath.StatusCode);
        var pending = Client.GetAsync(new Uri(redirect + "?code=c&state=plain"));
        await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
        flow.Reply(new CallbackResponse(200, CallbackPageKind.Success, ""));

        using var response = await pending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertSecurityHeaders(response);
    }

    [Fact]
    public async Task A_port_in_use_fails_the_listener_and_refuses_registrations()
    {
        var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        try
        {
            var port = ((IPEndPoint)blocker.LocalEndpoint).Port;
            var listener = Sys.ActorOf(CallbackServerActor.Props(Options(port: port)));

            var status = await StatusAsync(listener);

            Assert.False(status.Bound);
            Assert.Null(status.RedirectUri);
            var inUse = Assert.IsType<ListenerPortInUseException>(status.Failure);
            Assert.Equal(port, inUse.Port);
            Assert.Contains(port.ToString(), inUse.Message);

            var flow = CreateTestProbe();
            flow.Send(listener, new RegisterState("s", "flow-refused"));
            var refused = await flow.ExpectMsgAsync<StateRegistrationRefused>(Wait);
            Assert.Equal("flow-refused", refused.LoginId);
            Assert.IsType<ListenerPortInUseException>(refused.Cause);
            Assert.Contains(port.ToString(), refused.Reason);
        }
        finally
        {
            blocker.Stop();
        }
    }

    [Fact]
    public async Task StopListener_releases_the_port_before_answering()
    {
        var (listener, redirect) = await StartAsync(Options());
        Watch(listener);

        var stopped = await listener.Ask<ListenerStopped>(StopListener.Instance, Wait);

        Assert.Same(ListenerStopped.Instance, stopped);
        foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            var rebind = new TcpListener(address, redirect.Port);
            rebind.Start(); // throws if the port were still held
            rebind.Stop();
        }

        await ExpectTerminatedAsync(listener, Wait);
    }

    [Fact]
    public async Task A_missing_certificate_fails_the_listener_with_the_mkcert_commands()
    {
        var folder = Path.Combine(Path.GetTempPath(), "o8-nocert-" + Guid.NewGuid().ToString("N"));
        var options = Options();
        options.Certificates = new CertificateOptions { Folder = folder, AutoCreate = false };
        var listener = Sys.ActorOf(CallbackServerActor.Props(options));

        var status = await StatusAsync(listener);

        var missing = Assert.IsType<CertificateNotFoundException>(status.Failure);
        Assert.Contains("mkcert -install", missing.Message);
        Assert.Contains(Path.Combine(folder, "localhost.pem"), missing.Message);
        Assert.Contains(Path.Combine(folder, "localhost-key.pem"), missing.Message);
        var flow = CreateTestProbe();
        flow.Send(listener, new RegisterState("s", "flow-nocert"));
        Assert.IsType<CertificateNotFoundException>((await flow.ExpectMsgAsync<StateRegistrationRefused>(Wait)).Cause);

        // A failed listener still answers StopListener, so a disposing facade never hangs.
        await listener.Ask<ListenerStopped>(StopListener.Instance, Wait);
    }

    [Fact]
    public async Task Messages_sent_while_starting_are_answered_once_bound()
    {
        var listener = Sys.ActorOf(CallbackServerActor.Props(Options()));
        var flow = CreateTestProbe();

        flow.Send(listener, new RegisterState("early", "flow-early")); // before Kestrel is up: stashed

        var registered = await flow.ExpectMsgAsync<StateRegistered>(Wait);
        Assert.Equal("flow-early", registered.LoginId);
        Assert.True((await StatusAsync(listener)).Bound);
    }

    [Fact]
    public async Task Many_parallel_logins_each_get_their_own_callback()
    {
        const int logins = 40;
        var (listener, _) = await StartAsync(Options());
        var flows = new TestProbe[logins];
        var uris = new Uri[logins];
        for (var i = 0; i < logins; i++)
        {
            flows[i] = CreateTestProbe();
            uris[i] = new Uri(await RegisterAsync(flows[i], listener, $"state-{i}", $"flow-{i}"), $"?code=code-{i}&state=state-{i}");
        }

        var clock = Stopwatch.StartNew();
        // A fresh client per request: every callback is a new browser connection with its own TLS handshake.
        var requests = uris.Select(async uri =>
        {
            using var client = new HttpClient();
            using var response = await client.GetAsync(uri);
            return response.StatusCode;
        }).ToArray();
        for (var i = 0; i < logins; i++)
        {
            var callback = await flows[i].ExpectMsgAsync<AuthorizationCallback>(Wait);
            Assert.Equal($"flow-{i}", callback.LoginId);
            Assert.Equal($"code-{i}", callback.Code);
            flows[i].Reply(new CallbackResponse(200, CallbackPageKind.Success, ""));
        }

        var statuses = await Task.WhenAll(requests);
        clock.Stop();
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(0, (await StatusAsync(listener)).RegisteredStates);
        _output.WriteLine($"{logins} parallel callbacks over new TLS connections: {clock.ElapsedMilliseconds} ms");
    }

    private O8Options Options(string scheme = "https", int port = 0, string path = "/") => new()
    {
        Listener = new ListenerOptions { Scheme = scheme, Host = "localhost", Port = port, Path = path, BindIPv6 = true },
        Certificates = _mkcert.Options,
        Login = new LoginOptions { ExchangeTimeout = TimeSpan.FromSeconds(10) },
    };

    private async Task<(IActorRef Listener, Uri RedirectUri)> StartAsync(O8Options options)
    {
        var listener = Sys.ActorOf(CallbackServerActor.Props(options));
        var status = await StatusAsync(listener);
        Assert.True(status.Bound, $"listener did not bind: {status.Failure}");
        return (listener, status.RedirectUri!);
    }

    private static Task<ListenerStatus> StatusAsync(IActorRef listener) =>
        listener.Ask<ListenerStatus>(GetListenerStatus.Instance, Wait);

    private static async Task<Uri> RegisterAsync(TestProbe flow, IActorRef listener, string state, string flowId, bool watch = true)
    {
        flow.Send(listener, new RegisterState(state, flowId, watch));
        var registered = await flow.ExpectMsgAsync<StateRegistered>(Wait);
        Assert.Equal(flowId, registered.LoginId);
        return registered.RedirectUri;
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
        Assert.Contains(new NameValueHeaderValue("no-cache"), response.Headers.Pragma);
        Assert.Equal("no-referrer", Single(response, "Referrer-Policy"));
        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.Equal("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            Single(response, "Content-Security-Policy"));
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.False(response.Headers.Contains("Server"), "no Server header");
    }

    private static string Single(HttpResponseMessage response, string header) => Assert.Single(response.Headers.GetValues(header));
}
