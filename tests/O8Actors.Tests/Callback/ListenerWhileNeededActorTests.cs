using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.TestSupport;

namespace O8Actors.Tests.Callback;

/// <summary>
/// The listener actor with <c>o8.listener.start = while-needed</c>: real Kestrel on a fixed loopback port (plain http),
/// bound when a login registers and released once nothing has waited for a callback for as long as a browser waits for
/// its page (exchange timeout 10 s: 15 s), on the actor system's virtual clock.
/// </summary>
public sealed class ListenerWhileNeededActorTests() : Akka.TestKit.Xunit2.TestKit(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""")
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(15);

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private static O8Options Options(int port) => new()
    {
        Listener = new ListenerOptions { Scheme = "http", Host = "127.0.0.1", Port = port, BindIPv6 = false, Start = ListenerStart.WhileNeeded },
        Login = new LoginOptions { ExchangeTimeout = TimeSpan.FromSeconds(10) },
    };

    private static Task<ListenerStatus> StatusAsync(IActorRef listener) => listener.Ask<ListenerStatus>(GetListenerStatus.Instance, Wait);

    private static async Task<StateRegistered> RegisterAsync(IActorRef listener, TestProbe flow, string state)
    {
        flow.Send(listener, new RegisterState(state, "login-" + state, WatchRegistrant: false));
        return await flow.ExpectMsgAsync<StateRegistered>(Wait);
    }

    /// <summary>The login's state is withdrawn, and the listener has taken it (so the virtual clock moves after its idle wait began).</summary>
    private static async Task UnregisterAsync(IActorRef listener, string state)
    {
        listener.Tell(new UnregisterState(state, "login-" + state));
        Assert.Equal(0, (await StatusAsync(listener)).RegisteredStates);
    }

    /// <summary>A listener whose one login registered (binding it) and ended: its idle wait runs from the clock's now.</summary>
    private async Task<(IActorRef Listener, TestProbe Flow, int Port, Uri RedirectUri)> IdleAfterOneLoginAsync()
    {
        var port = FreePorts.Next();
        var listener = Sys.ActorOf(CallbackServerActor.Props(Options(port)));
        var flow = CreateTestProbe();
        var registered = await RegisterAsync(listener, flow, "s-1");
        await UnregisterAsync(listener, "s-1");
        return (listener, flow, port, registered.RedirectUri);
    }

    private static async Task BoundAsync(IActorRef listener, int port)
    {
        Assert.True((await StatusAsync(listener)).Bound);
        Assert.False(FreePorts.IsFree(port));
    }

    /// <summary>The listener has released its port (the release runs off the actor, so it is waited for).</summary>
    private async Task ReleasedAsync(IActorRef listener, int port) =>
        await AwaitAssertAsync(async () =>
        {
            Assert.False((await StatusAsync(listener)).Bound);
            Assert.True(FreePorts.IsFree(port));
        }, Wait);

    [Fact]
    public async Task The_port_is_released_once_no_login_has_waited_for_the_browsers_wait_and_bound_again_by_the_next_login()
    {
        var (listener, flow, port, redirectUri) = await IdleAfterOneLoginAsync();

        // A stray callback while idle (an unknown state: 400) does not put the release off.
        Clock.Advance(IdleWait - TimeSpan.FromSeconds(5));
        using (var http = new HttpClient())
            Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/?state=unknown&code=c"))).StatusCode);
        Clock.Advance(TimeSpan.FromSeconds(4));
        await BoundAsync(listener, port);

        Clock.Advance(TimeSpan.FromSeconds(1));
        await ReleasedAsync(listener, port);

        Assert.Equal(redirectUri, (await RegisterAsync(listener, flow, "s-2")).RedirectUri);
        await BoundAsync(listener, port);
        await listener.Ask<ListenerStopped>(StopListener.Instance, Wait);
        Assert.True(FreePorts.IsFree(port));
    }

    [Fact]
    public async Task A_login_that_registers_before_the_wait_is_over_keeps_the_port_bound_until_it_ends()
    {
        var (listener, flow, port, _) = await IdleAfterOneLoginAsync();
        Clock.Advance(IdleWait - TimeSpan.FromSeconds(1));

        await RegisterAsync(listener, flow, "s-2");
        Clock.Advance(IdleWait * 4);

        // The second login still waits for its browser: its port must stay.
        await BoundAsync(listener, port);
        await UnregisterAsync(listener, "s-2");
        Clock.Advance(IdleWait);
        await ReleasedAsync(listener, port);
    }

    [Fact]
    public async Task The_last_callback_routed_to_its_login_starts_the_wait()
    {
        var port = FreePorts.Next();
        var listener = Sys.ActorOf(CallbackServerActor.Props(Options(port)));
        var flow = CreateTestProbe();
        await RegisterAsync(listener, flow, "s-1");

        // The browser comes back: the state is used up, and the login answers its page.
        using var http = new HttpClient();
        var callback = http.GetAsync(new Uri($"http://127.0.0.1:{port}/?state=s-1&code=c"));
        await flow.ExpectMsgAsync<AuthorizationCallback>(Wait);
        flow.Reply(CallbackPages.SignedIn);
        Assert.Equal(HttpStatusCode.OK, (await callback).StatusCode);

        Clock.Advance(IdleWait);
        await ReleasedAsync(listener, port);
    }

    [Fact]
    public async Task A_login_that_registers_while_the_port_is_released_is_answered_by_a_fresh_bind()
    {
        var (listener, flow, port, redirectUri) = await IdleAfterOneLoginAsync();

        // The release begins; the next login registers before it can have ended, and waits for it.
        StateRegistered? registered = null;
        await EventFilter.Info(contains: "released its port").ExpectOneAsync(Wait, async () =>
        {
            Clock.Advance(IdleWait);
            registered = await RegisterAsync(listener, flow, "s-2");
        });

        Assert.Equal(redirectUri, registered!.RedirectUri);
        await BoundAsync(listener, port);
    }

    [Fact]
    public async Task A_login_that_registers_and_is_withdrawn_while_the_port_is_released_leaves_nothing_registered()
    {
        var (listener, flow, port, _) = await IdleAfterOneLoginAsync();

        // The next login registers during the release and is cancelled before the release ends: its withdrawal must
        // follow its registration, or the fresh bind keeps a state nobody will ever withdraw, and the port with it.
        await EventFilter.Info(contains: "released its port").ExpectOneAsync(Wait, async () =>
        {
            Clock.Advance(IdleWait);
            flow.Send(listener, new RegisterState("s-2", "login-s-2", WatchRegistrant: false));
            listener.Tell(new UnregisterState("s-2", "login-s-2"));
            await flow.ExpectMsgAsync<StateRegistered>(Wait);
        });

        Assert.Equal(0, (await StatusAsync(listener)).RegisteredStates);
        Clock.Advance(IdleWait);
        await ReleasedAsync(listener, port);
    }

    [Fact]
    public async Task A_bind_asked_for_while_the_port_is_released_is_told_the_listener_is_not_bound_when_a_stop_ends_the_release()
    {
        var (listener, flow, _, _) = await IdleAfterOneLoginAsync();

        Task<ListenerStatus>? bind = null;
        await EventFilter.Info(contains: "released its port").ExpectOneAsync(Wait, async () =>
        {
            Clock.Advance(IdleWait);
            bind = listener.Ask<ListenerStatus>(BindListener.Instance, Wait);
            flow.Send(listener, new RegisterState("s-2", "login-s-2", WatchRegistrant: false));
            await listener.Ask<ListenerStopped>(StopListener.Instance, Wait);
        });

        // Answered at once, not left to time out as a start that never ended (and blamed on the certificate).
        Assert.False((await bind!).Bound);
        Assert.Contains("stopping", (await flow.ExpectMsgAsync<StateRegistrationRefused>(Wait)).Reason);
    }

    [Fact]
    public async Task A_callback_that_reaches_the_listener_while_it_releases_its_port_is_an_unknown_state()
    {
        var (listener, _, _, _) = await IdleAfterOneLoginAsync();

        object? page = null;
        await EventFilter.Info(contains: "released its port").ExpectOneAsync(Wait, async () =>
        {
            Clock.Advance(IdleWait);
            page = await listener.Ask<object>(new CallbackReceived("unknown", "c", null, null, null), Wait);
        });

        // As a bound listener answers it (400), not as a login that broke off (500).
        Assert.Same(CallbackPages.UnknownState, page);
    }

    [Fact]
    public async Task A_stop_while_the_port_is_released_is_answered_once_it_is()
    {
        var (listener, _, port, _) = await IdleAfterOneLoginAsync();
        Watch(listener);

        // The stop comes while the port is released, and is answered by that release (not a stop of a bound listener).
        await EventFilter.Info(contains: "released its port").ExpectOneAsync(Wait, async () =>
        {
            Clock.Advance(IdleWait);
            await listener.Ask<ListenerStopped>(StopListener.Instance, Wait);
        });

        ExpectTerminated(listener, Wait);
        Assert.True(FreePorts.IsFree(port));
    }

    [Fact]
    public async Task A_listener_released_after_a_failed_bind_and_a_good_one_reports_no_failure()
    {
        var port = FreePorts.Next();
        var listener = Sys.ActorOf(CallbackServerActor.Props(Options(port)));
        var flow = CreateTestProbe();
        // Another program held the port for the first sign-in, which failed; the next one bound.
        var blocker = new TcpListener(IPAddress.Loopback, port);
        blocker.Start();
        try
        {
            flow.Send(listener, new RegisterState("s-1", "login-s-1", WatchRegistrant: false));
            await flow.ExpectMsgAsync<StateRegistrationRefused>(Wait);
        }
        finally
        {
            blocker.Stop();
        }

        await RegisterAsync(listener, flow, "s-2");
        await UnregisterAsync(listener, "s-2");
        Clock.Advance(IdleWait);
        await ReleasedAsync(listener, port);

        // Released between sign-ins is how this setting stands, not a failure: the hosted health check stays healthy.
        Assert.Null((await StatusAsync(listener)).Failure);
    }

    /// <summary>
    /// A certificate check of the bind before a release that ends while a fresh bind fails (another process took the port
    /// meanwhile): its result, kept through the bind, reached a failed listener that had no use for it, and the private
    /// key of the certificate it made was never disposed.
    /// </summary>
    [Fact]
    public async Task A_certificate_checks_result_that_reaches_a_listener_whose_fresh_bind_failed_has_its_certificate_disposed()
    {
        var (listener, flow, port, _) = await IdleAfterOneLoginAsync();
        Clock.Advance(IdleWait);
        await ReleasedAsync(listener, port);
        using var squatter = new TcpListener(IPAddress.Loopback, port);
        squatter.Start();
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var made = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=localhost", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        // The registration starts the fresh bind; the check's result comes while it runs, and waits for its end.
        var found = new CertificateChecked("files") { Check = 1, Next = ServedCertificate.Prepare(made, owned: true) };
        Assert.NotEqual(IntPtr.Zero, made.Handle);
        flow.Send(listener, new RegisterState("s-2", "login-s-2", WatchRegistrant: false));
        listener.Tell(found);

        await flow.ExpectMsgAsync<StateRegistrationRefused>(Wait);
        await AwaitAssertAsync(() => Assert.Equal(IntPtr.Zero, made.Handle), Wait);
        // Held to the end: collected, the certificate's finalizer could release its handle and pass for a disposal.
        GC.KeepAlive(found);
    }
}
