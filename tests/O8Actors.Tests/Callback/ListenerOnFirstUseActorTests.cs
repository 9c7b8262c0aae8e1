using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.TestSupport;
using Xunit.Abstractions;

namespace O8Actors.Tests.Callback;

/// <summary>
/// The listener actor with <c>o8.listener.start = on-first-use</c>: real Kestrel on a fixed loopback port (plain http),
/// bound by the first registration or <see cref="BindListener"/>, never by a status question, and bound again after a
/// failed bind.
/// </summary>
public sealed class ListenerOnFirstUseActorTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static O8Options Options(int port) => new()
    {
        Listener = new ListenerOptions { Scheme = "http", Host = "127.0.0.1", Port = port, BindIPv6 = false, Start = ListenerStart.OnFirstUse },
        Login = new LoginOptions { ExchangeTimeout = TimeSpan.FromSeconds(10) },
    };

    private static Task<ListenerStatus> StatusAsync(IActorRef listener) => listener.Ask<ListenerStatus>(GetListenerStatus.Instance, Wait);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Nothing_is_bound_until_a_login_or_a_sign_out_registers_its_state(bool forSignOut)
    {
        var port = FreePorts.Next();
        var listener = Sys.ActorOf(CallbackServerActor.Props(Options(port)));

        var idle = await StatusAsync(listener);
        Assert.False(idle.Bound);
        Assert.Null(idle.RedirectUri);
        Assert.Null(idle.Failure);
        Assert.True(FreePorts.IsFree(port));

        var flow = CreateTestProbe();
        flow.Send(listener, new RegisterState("s-1", "flow-1", WatchRegistrant: false) { ForSignOut = forSignOut });
        var registered = await flow.ExpectMsgAsync<StateRegistered>(Wait);

        Assert.Equal(new Uri($"http://127.0.0.1:{port}/"), registered.RedirectUri);
        var bound = await StatusAsync(listener);
        Assert.True(bound.Bound);
        Assert.Equal(1, bound.RegisteredStates);
        Assert.False(FreePorts.IsFree(port));
        await listener.Ask<ListenerStopped>(StopListener.Instance, Wait);
        Assert.True(FreePorts.IsFree(port));
    }

    [Fact]
    public async Task BindListener_binds_and_answers_the_bound_status()
    {
        var port = FreePorts.Next();
        var listener = Sys.ActorOf(CallbackServerActor.Props(Options(port)));

        var status = await listener.Ask<ListenerStatus>(BindListener.Instance, Wait);

        Assert.True(status.Bound);
        Assert.Equal(new Uri($"http://127.0.0.1:{port}/"), status.RedirectUri);
        Assert.True((await StatusAsync(listener)).Bound);
        await listener.Ask<ListenerStopped>(StopListener.Instance, Wait);
    }

    [Fact]
    public async Task A_failed_bind_refuses_the_registrations_that_waited_for_it_and_the_next_registration_binds_again()
    {
        var port = FreePorts.Next();
        var blocker = new TcpListener(IPAddress.Loopback, port);
        blocker.Start();
        var listener = Sys.ActorOf(CallbackServerActor.Props(Options(port)));
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        try
        {
            first.Send(listener, new RegisterState("s-1", "flow-1", WatchRegistrant: false));
            second.Send(listener, new RegisterState("s-2", "flow-2", WatchRegistrant: false));

            foreach (var (probe, id) in new[] { (first, "flow-1"), (second, "flow-2") })
            {
                var refused = await probe.ExpectMsgAsync<StateRegistrationRefused>(Wait);
                Assert.Equal(id, refused.LoginId);
                Assert.Equal(port, Assert.IsType<ListenerPortInUseException>(refused.Cause).Port);
                Assert.Equal(refused.Cause!.Message, refused.Reason);
            }

            var failed = await StatusAsync(listener);
            Assert.False(failed.Bound);
            Assert.IsType<ListenerPortInUseException>(failed.Failure);
        }
        finally
        {
            blocker.Stop();
        }

        var third = CreateTestProbe();
        third.Send(listener, new RegisterState("s-3", "flow-3", WatchRegistrant: false));
        Assert.Equal(port, (await third.ExpectMsgAsync<StateRegistered>(Wait)).RedirectUri.Port);
        var bound = await StatusAsync(listener);
        Assert.True(bound.Bound);
        Assert.Null(bound.Failure);
        await listener.Ask<ListenerStopped>(StopListener.Instance, Wait);
    }

    [Fact]
    public async Task An_unbound_listener_answers_StopListener_and_stops_without_ever_binding()
    {
        await EventFilter.Info(contains: "Callback listener bound").ExpectAsync(0, async () =>
        {
            var listener = Sys.ActorOf(CallbackServerActor.Props(Options(FreePorts.Next())));
            Watch(listener);

            Assert.Same(ListenerStopped.Instance, await listener.Ask<ListenerStopped>(StopListener.Instance, Wait));
            await ExpectTerminatedAsync(listener, Wait);
        });
    }
}
