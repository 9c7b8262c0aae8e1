using Akka.Actor;
using Akka.Actor.Internal;
using Akka.Event;
using Microsoft.Extensions.Logging;
using O8Actors.Accounts;
using O8Actors.Browser;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Runtime;

/// <summary>
/// The root of one O8Actors instance (<c>/user/o8</c>): creates the listener, the provider registry, the flows
/// supervisor and the undelivered-login watcher as its children and decides, per child, what a throw means.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><b>Listener: Stop, never Restart.</b> A restart would drop the table of waiting states (every login waiting for
/// its browser would be lost without a word) and bind the port again behind the caller's back. Stopped, it releases the
/// port in PostStop; the crash is logged as an error, every login in flight ends as Failed (ListenerUnavailable), and
/// new logins are refused the same way (their registration reaches dead letters and the watcher answers it). The app
/// sees the failure and decides; a health check sees the listener gone.</item>
/// <item><b>Provider registry: Resume.</b> Its table (name → provider actor) is its whole value and each handler changes
/// at most one entry, last; a restart would stop every provider actor and forget every registration. Provider actors
/// are the registry's children, restarted there with their queues kept (<see cref="ProviderActor"/>).</item>
/// <item><b>Flows supervisor: Resume.</b> Its table of waiters is what guarantees each caller one outcome; a restart
/// would stop every login in flight. Logins are its children, stopped (never restarted) when they throw.</item>
/// <item><b>Accounts supervisor: Resume.</b> Its table (account → actor) routes every account to its one actor; a
/// restart would stop them all mid-renewal. Its account actors are stopped when they throw and recreated on demand
/// (their tokens are in the store).</item>
/// <item><b>Undelivered-login watcher: Restart.</b> It holds nothing; a restart subscribes it again.</item>
/// </list>
/// The guardian itself does nothing that can throw after its constructor; it lives under Akka's user guardian.
/// </remarks>
internal sealed class O8Guardian : ReceiveActor
{
    private readonly IActorRef _listener;
    private readonly IActorRef _providers;
    private readonly IActorRef _flows;
    private readonly IActorRef _undelivered;
    private readonly IActorRef _accounts;
    private readonly AccountCache _accountCache = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Exception? _listenerCrash;

    public O8Guardian(O8Options options, IBrowserLauncher browser, Func<string, HttpClient> httpClients, ILoggerFactory? loggerFactory,
        O8Actors.Binding.BrowserBindingVerifier? bindingVerifier = null, ITokenStore? tokenStore = null)
    {
        var system = Context.System;
        _listener = Context.ActorOf(CallbackServerActor.Props(options, loggerFactory).OnO8Dispatcher(system), O8Bootstrap.ListenerName);
        _providers = Context.ActorOf(
            ProviderRegistryActor.Props(httpClients, options.Providers.MaxConcurrentExchanges, options.Login.ExchangeTimeout,
                options.Providers.MaxQueuedExchanges, options.Listener.ExternalRedirectUri?.AbsolutePath ?? options.Listener.Path).OnO8Dispatcher(system),
            O8Bootstrap.ProvidersName);
        _flows = Context.ActorOf(FlowsSupervisor.Props(options.Login, _listener, _providers, browser, bindingVerifier,
            serverMode: options.Listener.ExternalRedirectUri is not null).OnO8Dispatcher(system), O8Bootstrap.FlowsName);
        _undelivered = Context.ActorOf(UndeliveredLoginWatcher.Props().OnO8Dispatcher(system), O8Bootstrap.UndeliveredName);
        var settings = O8Settings.From(options);
        _accounts = Context.ActorOf(
            AccountsSupervisor.Props(tokenStore ?? new InMemoryTokenStore(), _providers, _flows,
                new AccountSettings(settings.RefreshMargin, settings.Login.ExchangeTimeout, settings.Login, _accountCache)
                {
                    ServerMode = options.Listener.ExternalRedirectUri is not null,
                },
                routed: AccountsRouted(system.Settings.Config)).OnO8Dispatcher(system),
            O8Bootstrap.AccountsName);
        Context.Watch(_listener);

        Receive<GetO8Actors>(_ => Sender.Tell(new O8ActorRefs(_listener, _providers, _flows, Self, _accounts, _accountCache)));
        Receive<Terminated>(t => t.ActorRef.Equals(_listener), _ => OnListenerGone());
    }

    /// <summary>The HOCON flag a package that shards accounts sets (<c>o8.accounts.routed = on</c>) before the system starts.</summary>
    internal const string AccountsRoutedPath = "o8.accounts.routed";

    internal static bool AccountsRouted(Akka.Configuration.Config config) => config.HasPath(AccountsRoutedPath) && config.GetBoolean(AccountsRoutedPath);

    public static Props Props(O8Options options, IBrowserLauncher browser, Func<string, HttpClient> httpClients, ILoggerFactory? loggerFactory,
        O8Actors.Binding.BrowserBindingVerifier? bindingVerifier = null, ITokenStore? tokenStore = null) =>
        Akka.Actor.Props.Create(() => new O8Guardian(options, browser, httpClients, loggerFactory, bindingVerifier, tokenStore));

    /// <inheritdoc />
    protected override SupervisorStrategy SupervisorStrategy() => new PerChildStrategy(Decide);

    private Directive Decide(IActorRef child, Exception cause)
    {
        if (child.Equals(_listener))
        {
            _listenerCrash = cause;
            return Directive.Stop;
        }

        if (child.Equals(_providers) || child.Equals(_flows) || child.Equals(_accounts)) return Directive.Resume;
        return Directive.Restart;
    }

    private void OnListenerGone()
    {
        // A StopListener (dispose, CoordinatedShutdown) ends the listener too; that is no news.
        if (_listenerCrash is not { } crash) return;
        var reason = $"The redirect listener failed ({crash.GetType().Name}) and was stopped; its port is released.";
        _log.Error(crash, "{0} Logins in flight fail and new logins are refused until O8Actors is started again.", reason);
        _flows.Tell(new ListenerLost(reason));
    }

    /// <summary>
    /// A one-for-one strategy whose directive depends on which child failed; Akka's deciders see only the exception. The
    /// decider answers Restart for every failure, so Akka always hands the failure to <see cref="ProcessFailure"/>, which
    /// knows the child and applies that child's directive (the log line names the directive really applied).
    /// </summary>
    private sealed class PerChildStrategy(Func<IActorRef, Exception, Directive> decide)
        : OneForOneStrategy(maxNrOfRetries: 10, withinTimeRange: TimeSpan.FromMinutes(1), _ => Directive.Restart)
    {
        public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
            ChildRestartStats stats, IReadOnlyCollection<ChildRestartStats> children)
        {
            switch (decide(child, cause))
            {
                case Directive.Resume:
                    ResumeChild(child, cause);
                    break;
                case Directive.Stop:
                    context.Stop(child);
                    break;
                default:
                    base.ProcessFailure(context, restart, child, cause, stats, children);
                    break;
            }
        }

        protected override void LogFailure(IActorContext context, IActorRef child, Exception cause, Directive directive) =>
            base.LogFailure(context, child, cause, decide(child, cause));
    }
}

/// <summary>Asks the <see cref="O8Guardian"/> for its children; answered with <see cref="O8ActorRefs"/>.</summary>
internal sealed record GetO8Actors
{
    public static GetO8Actors Instance { get; } = new();
}
