using Akka.Actor;
using Akka.Event;
using O8Actors.Callback;
using O8Actors.Runtime;

namespace O8Actors.Providers;

/// <summary>
/// The top-level actor that owns one <see cref="ProviderActor"/> per registered provider and forwards each
/// provider-addressed message to it (keeping the sender), so flows address providers by name only.
/// </summary>
internal sealed class ProviderRegistryActor : ReceiveActor
{
    private readonly Func<string, HttpClient> _httpClients;
    private readonly int _maxConcurrentExchanges;
    private readonly int _maxQueuedExchanges;
    private readonly TimeSpan _exchangeTimeout;
    private readonly string _callbackPath;
    private readonly Dictionary<string, IActorRef> _providers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RedirectPathOf> _paths = new(StringComparer.Ordinal);
    private readonly HashSet<string> _warnedSharing = new(StringComparer.Ordinal);
    private int _generation;

    /// <summary>Props for the registry.</summary>
    /// <param name="httpClients">Creates an HTTP client for a provider name (from <c>IHttpClientFactory</c>).</param>
    /// <param name="maxConcurrentExchanges">Token requests each provider runs at once.</param>
    /// <param name="exchangeTimeout">How long one token request may take.</param>
    /// <param name="maxQueuedExchanges">Token requests each provider holds waiting for a slot (<c>o8.providers.max-queued-exchanges</c>).</param>
    /// <param name="callbackPath">The listener's callback path; each provider's redirect path is it or lies under it.</param>
    public static Props Props(Func<string, HttpClient> httpClients, int maxConcurrentExchanges, TimeSpan exchangeTimeout,
        int maxQueuedExchanges = ProviderActor.DefaultMaxQueuedExchanges, string callbackPath = "/") =>
        Akka.Actor.Props.Create(() => new ProviderRegistryActor(httpClients, maxConcurrentExchanges, exchangeTimeout, maxQueuedExchanges, callbackPath));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public ProviderRegistryActor(Func<string, HttpClient> httpClients, int maxConcurrentExchanges, TimeSpan exchangeTimeout,
        int maxQueuedExchanges = ProviderActor.DefaultMaxQueuedExchanges, string callbackPath = "/")
    {
        _callbackPath = callbackPath;
        _httpClients = httpClients;
        _maxConcurrentExchanges = maxConcurrentExchanges;
        _maxQueuedExchanges = maxQueuedExchanges;
        _exchangeTimeout = exchangeTimeout;

        Receive<RegisterProvider>(Register);
        Receive<UnregisterProvider>(Unregister);
        Receive<GetRedirectPath>(msg => Sender.Tell(_paths.TryGetValue(msg.Provider, out var path)
            ? new RedirectPathIs(msg.Provider, path.Path)
            : new Status.Failure(new UnknownProviderException(msg.Provider))));
        // A provider actor ends when it has drained after a re-registration, or when it failed too often; in the second
        // case its name must stop routing to a dead actor: its requests are answered here from now on (ProviderUnavailable,
        // while the registration stands). Those forwarded before this arrived, and those still in its mailbox, reached
        // dead letters, where the UndeliveredLoginWatcher answers them the same way.
        Receive<Terminated>(t =>
        {
            foreach (var (name, actor) in _providers)
            {
                if (!actor.Equals(t.ActorRef)) continue;
                _providers.Remove(name);
                break;
            }
        });
        Receive<PrepareAuthorization>(msg => Route(msg.Provider, msg));
        Receive<CheckBrowserLogin>(msg => Route(msg.Provider, msg));
        Receive<ExchangeCode>(msg => Route(msg.Provider, msg));
        // A cancelled login's withdrawal, to every provider actor: the one holding its code may be a replaced or
        // unregistered one still draining its queue (it would send the code), and only the holder answers. None left (the
        // provider was given up on): nothing to take back, as its exchange was answered when the actor stopped.
        Receive<WithdrawExchange>(msg =>
        {
            foreach (var provider in Context.GetChildren()) provider.Forward(msg);
        });
        Receive<RefreshTokens>(msg => Route(msg.Provider, msg));
        Receive<RequestDeviceCode>(msg => Route(msg.Provider, msg));
        Receive<PollDeviceToken>(msg => Route(msg.Provider, msg));
        Receive<RevokeTokens>(msg => Route(msg.Provider, msg));
        Receive<PrepareEndSession>(msg => Route(msg.Provider, msg));
        Receive<CheckEndSession>(msg => Route(msg.Provider, msg));
        Receive<FetchUserInfo>(msg => Route(msg.Provider, msg));
        Receive<ValidateLogoutToken>(msg => Route(msg.Provider, msg));
    }

    /// <summary>
    /// A provider actor that throws is restarted: its discovery result is only a cache (a restart re-runs discovery),
    /// and what it must not lose it hands to its next incarnation (see <see cref="ProviderActor"/>'s PreRestart).
    /// More than <see cref="MaxRestartsPerMinute"/> failures a minute means the strategy itself is broken: the actor is
    /// stopped, and every request waiting on it fails at once as <see cref="LoginFailure.ProviderUnavailable"/>, naming
    /// the provider: the one it failed on and those it held (answered as it stops), those left in its mailbox (answered
    /// from dead letters by the <see cref="Flows.UndeliveredLoginWatcher"/>), and those sent later (answered here),
    /// until the provider is registered again.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: MaxRestartsPerMinute, withinTimeRange: TimeSpan.FromMinutes(1), _ => Directive.Restart);

    /// <summary>How many times a minute a provider actor that throws is restarted before it is stopped.</summary>
    private const int MaxRestartsPerMinute = 10;

    /// <summary>How the name of each provider actor begins (a generation and the provider's name follow).</summary>
    private const string ActorNamePrefix = "provider-";

    /// <summary>
    /// Whether <paramref name="actor"/> is a registry's provider actor (not the registry itself, whose end is the actor
    /// system's: its requests' senders are stopped with it).
    /// </summary>
    internal static bool IsProviderActor(IActorRef actor) => actor.Path.Name.StartsWith(ActorNamePrefix, StringComparison.Ordinal);

    private void Register(RegisterProvider msg)
    {
        if (Registered(msg.Strategy) is { } problem)
        {
            Sender.Tell(new Status.Failure(new ArgumentException(problem)));
            return;
        }

        Sender.Tell(new ProviderRegistered(msg.Strategy.Name));
    }

    /// <summary>Registers <paramref name="strategy"/> under its name, replacing the one there; null, or why it cannot be.</summary>
    private string? Registered(ProviderStrategy strategy)
    {
        var name = strategy.Name;
        if (string.IsNullOrWhiteSpace(name)) return "A provider strategy needs a non-empty Name.";
        if (RedirectPaths.Problem(_callbackPath, name, strategy.RedirectPath) is { } pathProblem) return pathProblem;

        // Re-registering a name replaces its strategy for new requests. The old actor drains: a login whose code it is
        // exchanging (the code is spent at the provider) or has queued gets its answer from it, then it stops.
        if (_providers.Remove(name, out var previous)) previous.Tell(DrainProvider.Instance);

        var http = _httpClients;
        var path = RedirectPaths.For(_callbackPath, name, strategy.RedirectPath);
        _paths[name] = new RedirectPathOf(path, strategy.KnownIssuer, strategy);
        WarnIfSharedWithoutIssuer(path);
        var child = Context.ActorOf(
            ProviderActor.Props(strategy, () => http(name), _maxConcurrentExchanges, _exchangeTimeout, _maxQueuedExchanges, path)
                .OnO8Dispatcher(Context.System),
            $"{ActorNamePrefix}{++_generation}-{ActorNameFor(name)}");
        Context.Watch(child);
        _providers[name] = child;
        return null;
    }

    /// <summary>
    /// Removes a provider whose owner is done with it (a disposed <see cref="OAuthFlow"/>): it drains as on a
    /// re-registration, and its name is unknown from now on, or taken over at once by the message's successor (another
    /// live flow of the name). A name registered again since by another strategy is kept.
    /// </summary>
    private void Unregister(UnregisterProvider msg)
    {
        var name = msg.Strategy.Name;
        var removed = _paths.TryGetValue(name, out var current) && ReferenceEquals(current.Strategy, msg.Strategy);
        // Taken over in place, the old actor drains as on any re-registration; otherwise the name goes.
        if (removed && !TryTakeOver(name, msg.Successor))
        {
            _paths.Remove(name);
            if (_providers.Remove(name, out var actor)) actor.Tell(DrainProvider.Instance);
            if (_paths.Values.Count(p => p.Path == current!.Path) < 2) _warnedSharing.Remove(current!.Path);
        }

        Sender.Tell(new ProviderUnregistered(name, removed));
    }

    /// <summary>Registers <paramref name="successor"/> in the place of <paramref name="name"/>'s provider; whether it could (same name, a usable path).</summary>
    private bool TryTakeOver(string name, ProviderStrategy? successor) =>
        successor is not null && string.Equals(successor.Name, name, StringComparison.Ordinal) && Registered(successor) is null;

    /// <summary>
    /// Providers that share a redirect path are told apart only by <c>iss</c> (RFC 9207); one without a known issuer
    /// would take a response meant for another (the mix-up attack, RFC 9700 section 4.4). Said once per shared path.
    /// </summary>
    private void WarnIfSharedWithoutIssuer(string path)
    {
        var sharing = _paths.Where(p => p.Value.Path == path).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        if (sharing.Count < 2) return;
        var unknown = sharing.Where(n => string.IsNullOrEmpty(_paths[n].KnownIssuer)).ToList();
        // Once per shared path (not per set of names: an OAuthFlow's provider has a new name per instance, and a set per
        // registration grew with every flow an app made); said again once the path was shared no more and is again.
        if (unknown.Count == 0 || !_warnedSharing.Add(path)) return;
        Context.GetLogger().Warning(
            "Providers {0} share the redirect path {1}, and {2} no known issuer: a response meant for one of them could be taken by " +
            "a login of another (mix-up attack, RFC 9700 section 4.4). Fix: give {3} its own RedirectPath (the default is the " +
            "callback path followed by the provider's name), or configure its Issuer when the provider sends iss (RFC 9207).",
            string.Join(", ", sharing.Select(n => $"'{n}'")), path,
            unknown.Count == 1 ? $"'{unknown[0]}' has" : string.Join(", ", unknown.Select(n => $"'{n}'")) + " have",
            unknown.Count == 1 ? "it" : "each");
    }

    private void Route(string provider, object message)
    {
        if (_providers.TryGetValue(provider, out var actor)) actor.Forward(message);
        // Registered, but without an actor: stopped after failing too often (a drained one's name is unregistered or served
        // by its successor).
        else if (_paths.ContainsKey(provider))
            Sender.Tell(ProviderRequestFailures.For(message, LoginFailure.ProviderUnavailable,
                ProviderRequestFailures.Stopped(provider, $"after failing more than {MaxRestartsPerMinute} times within a minute")));
        else Sender.Tell(ProviderRequestFailures.For(message, LoginFailure.UnknownProvider, new UnknownProviderException(provider).Message));
    }

    private sealed record RedirectPathOf(string Path, string? KnownIssuer, ProviderStrategy Strategy);

    private static string ActorNameFor(string provider)
    {
        Span<char> name = stackalloc char[Math.Min(provider.Length, 40)];
        for (var i = 0; i < name.Length; i++)
        {
            var c = provider[i];
            name[i] = char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_';
        }
        return new string(name);
    }
}
