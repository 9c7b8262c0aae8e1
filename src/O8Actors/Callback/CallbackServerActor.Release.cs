using Akka.Actor;
using Akka.Event;
using O8Actors.Providers;

namespace O8Actors.Callback;

/// <summary>
/// <c>o8.listener.start = while-needed</c>: the port is released once no login or sign-out has waited for its browser for
/// as long as a browser's callback request may wait for its page (<see cref="ExchangeTimeouts.BrowserWait"/>), so the
/// last browser that came back has had its page before Kestrel stops. What needs the listener while it releases waits
/// for the release, then binds it again (as on first use).
/// </summary>
internal sealed partial class CallbackServerActor
{
    private const string IdleReleaseTimer = "idle-release";

    /// <summary>
    /// Removes a login's or sign-out's state (routed, withdrawn, or its registrant died); the last one gone starts the
    /// wait. Only a removal does: stray callbacks to an idle listener do not put the release off.
    /// </summary>
    private void ForgetState(string state)
    {
        _states.Remove(state);
        if (_states.Count == 0) ReleaseLaterIfIdle();
    }

    /// <summary>Schedules the release while bound with nothing waiting for a callback (while-needed only; not while stopping).</summary>
    private void ReleaseLaterIfIdle()
    {
        if (!_releaseWhenIdle || _app is null || _states.Count > 0) return;
        Timers.StartSingleTimer(IdleReleaseTimer, ReleaseIfIdle.Instance, IdleWait);
    }

    /// <summary>A login or sign-out registered: the port stays bound while it waits.</summary>
    private void KeepBound()
    {
        if (_releaseWhenIdle) Timers.Cancel(IdleReleaseTimer);
    }

    private TimeSpan IdleWait => ExchangeTimeouts.BrowserWait(_options.Login.ExchangeTimeout);

    /// <summary>
    /// The wait is over with nothing registered since: a registration cancels the timer (<see cref="KeepBound"/>), and a
    /// cancelled timer's message is never received, even one already queued.
    /// </summary>
    private void Release()
    {
        _log.Info("Callback listener releasing its port: nothing has waited for a callback for {0:0.#} s (o8.listener.start = while-needed)",
            IdleWait.TotalSeconds);
        Become(Releasing);
        ShutDownServer();
    }

    private void Releasing()
    {
        // Kept for the release's end, then served by a fresh bind (Unbound binds for them). A withdrawal is kept too, in
        // its order behind the registration it withdraws: dropped here, it would leave that login registered after the
        // fresh bind, for nobody, and the port bound for good.
        Receive<RegisterState>(_ => Stash.Stash());
        Receive<UnregisterState>(_ => Stash.Stash());
        Receive<BindListener>(_ => Stash.Stash());
        Receive<GetListenerStatus>(_ => Sender.Tell(new ListenerStatus(false, null, 0, null)));
        // The release ends as a stop: what waited for a fresh bind is answered as a stopping listener answers it.
        Receive<StopListener>(_ =>
        {
            _stopRequesters.Add(Sender);
            Become(() => Stopping("released its port", "released its port uncleanly"));
            Stash.UnstashAll();
        });
        // A request Kestrel took before it stopped accepting names no waiting login: answered as when bound (400, counted).
        Receive<CallbackReceived>(Route);
        Receive<Terminated>(_ => { });
        IgnoreCertificateChecks();
        Receive<ListenerShutDown>(down =>
        {
            LogShutDown(down, "released its port", "released its port uncleanly");
            _redirectUri = null;
            _certificateWatch = null;
            Become(Unbound);
            Stash.UnstashAll();
        });
    }
}

/// <summary>The listener's idle wait is over (while-needed): it releases the port if nothing has registered since.</summary>
internal sealed class ReleaseIfIdle
{
    /// <summary>The one instance.</summary>
    public static readonly ReleaseIfIdle Instance = new();

    private ReleaseIfIdle() { }
}
