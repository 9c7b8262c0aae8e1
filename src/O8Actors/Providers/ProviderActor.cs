using Akka.Actor;
using Akka.Event;

namespace O8Actors.Providers;

/// <summary>
/// Wraps one <see cref="ProviderStrategy"/>: learns what the provider supports once (discovery), builds authorize URLs,
/// and runs token requests with at most <c>maxConcurrentExchanges</c> in flight, queueing the rest.
/// </summary>
public sealed class ProviderActor : ReceiveActor
{
    private readonly ProviderStrategy _strategy;
    private readonly Func<HttpClient> _httpClients;
    private readonly int _maxConcurrent;
    private readonly TimeSpan _exchangeTimeout;
    private readonly Queue<(object Request, IActorRef ReplyTo)> _waiting = new();
    private readonly List<(PrepareAuthorization Request, IActorRef ReplyTo)> _pending = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private int _inFlight;
    private ProviderDescriptor? _descriptor;

    /// <summary>Props for a provider actor.</summary>
    /// <param name="strategy">The provider's protocol.</param>
    /// <param name="httpClients">Creates the HTTP client for a request (from <c>IHttpClientFactory</c>).</param>
    /// <param name="maxConcurrentExchanges">Token requests in flight at once.</param>
    /// <param name="exchangeTimeout">How long one token request may take.</param>
    public static Props Props(ProviderStrategy strategy, Func<HttpClient> httpClients, int maxConcurrentExchanges, TimeSpan exchangeTimeout) =>
        Akka.Actor.Props.Create(() => new ProviderActor(strategy, httpClients, maxConcurrentExchanges, exchangeTimeout));

    /// <summary>Creates the actor; use <see cref="Props"/>.</summary>
    public ProviderActor(ProviderStrategy strategy, Func<HttpClient> httpClients, int maxConcurrentExchanges, TimeSpan exchangeTimeout)
    {
        _strategy = strategy;
        _httpClients = httpClients;
        _maxConcurrent = Math.Max(1, maxConcurrentExchanges);
        _exchangeTimeout = exchangeTimeout;
        Unresolved();
    }

    private sealed record Resolved(ProviderDescriptor Descriptor);
    private sealed record ResolveFailed(Exception Cause);
    private sealed record TokenRequestDone(IActorRef ReplyTo, object Reply);

    private void Unresolved()
    {
        Receive<PrepareAuthorization>(msg =>
        {
            _pending.Add((msg, Sender));
            StartResolving();
        });
        TokenRequests();
    }

    private void StartResolving()
    {
        Become(Resolving);
        var strategy = _strategy;
        var http = _httpClients();
        RunWithTimeout(ct => strategy.ResolveAsync(http, ct), _exchangeTimeout)
            .PipeTo(Self, success: d => new Resolved(d), failure: e => new ResolveFailed(e));
    }

    private void Resolving()
    {
        Receive<PrepareAuthorization>(msg => _pending.Add((msg, Sender)));
        Receive<Resolved>(msg =>
        {
            _descriptor = msg.Descriptor;
            _log.Info("Provider {0} resolved (issuer {1}, iss parameter {2}, PKCE {3})",
                _strategy.Name, msg.Descriptor.Issuer ?? "unknown", msg.Descriptor.IssuerParameterSupported, msg.Descriptor.SupportsPkce);
            // Once per provider: public clients cannot get here without PKCE (their options and metadata are refused).
            if (!msg.Descriptor.SupportsPkce)
                _log.Warning("Provider {0} signs in without PKCE (a confidential client's opt-out, or metadata without S256): a stolen code is protected only by the client secret", _strategy.Name);
            Become(Ready);
            foreach (var (request, replyTo) in _pending) Prepare(request, replyTo);
            _pending.Clear();
        });
        Receive<ResolveFailed>(msg =>
        {
            // Answer everyone who waited, then try again on the next login: discovery may recover.
            var reason = $"The provider '{_strategy.Name}' could not be resolved: {SafeReason(msg.Cause)}";
            _log.Warning(reason);
            foreach (var (request, replyTo) in _pending) replyTo.Tell(new ProviderUnavailable(request.LoginId, reason));
            _pending.Clear();
            Become(Unresolved);
        });
        TokenRequests();
    }

    private void Ready()
    {
        Receive<PrepareAuthorization>(msg => Prepare(msg, Sender));
        TokenRequests();
    }

    private void Prepare(PrepareAuthorization msg, IActorRef replyTo)
    {
        var descriptor = _descriptor ?? ProviderDescriptor.Static;
        try
        {
            var context = new AuthorizeUrlContext(
                msg.State,
                descriptor.SupportsPkce ? msg.CodeChallenge : null,
                msg.RedirectUri,
                msg.Scopes,
                msg.ExtraParameters,
                descriptor);
            replyTo.Tell(new AuthorizationPrepared(msg.LoginId, _strategy.BuildAuthorizeUrl(context), descriptor));
        }
        catch (Exception e)
        {
            replyTo.Tell(new ProviderUnavailable(msg.LoginId, $"The provider '{_strategy.Name}' could not build an authorize URL: {SafeReason(e)}"));
        }
    }

    private void TokenRequests()
    {
        Receive<ExchangeCode>(msg => Enqueue(msg));
        Receive<RefreshTokens>(msg => Enqueue(msg));
        Receive<TokenRequestDone>(msg =>
        {
            _inFlight--;
            msg.ReplyTo.Tell(msg.Reply);
            StartWaiting();
        });
    }

    private void Enqueue(object request)
    {
        _waiting.Enqueue((request, Sender));
        StartWaiting();
    }

    private void StartWaiting()
    {
        while (_inFlight < _maxConcurrent && _waiting.TryDequeue(out var next))
        {
            _inFlight++;
            Run(next.Request, next.ReplyTo);
        }
    }

    private void Run(object request, IActorRef replyTo)
    {
        var strategy = _strategy;
        var http = _httpClients();
        var (flowId, work) = request switch
        {
            ExchangeCode e => (e.LoginId, (Func<CancellationToken, Task<TokenSet>>)(ct =>
                strategy.ExchangeCodeAsync(new CodeExchangeContext(e.Code, e.CodeVerifier, e.RedirectUri), http, ct))),
            RefreshTokens r => (r.RequestId, ct => strategy.RefreshAsync(new RefreshContext(r.RefreshToken, r.Scopes), http, ct)),
            _ => throw new InvalidOperationException($"Unexpected token request {request.GetType().Name}"),
        };
        var name = strategy.Name;
        var timeout = _exchangeTimeout;
        RunWithTimeout(work, timeout).PipeTo(Self,
            success: tokens => new TokenRequestDone(replyTo, new CodeExchanged(flowId, tokens)),
            failure: e => new TokenRequestDone(replyTo, ToFailure(flowId, name, timeout, e)));
    }

    private static CodeExchangeFailed ToFailure(string flowId, string provider, TimeSpan timeout, Exception error)
    {
        var cause = error is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : error;
        return cause switch
        {
            TimeoutException or OperationCanceledException => new CodeExchangeFailed(flowId, LoginFailure.ExchangeTimeout,
                $"The token endpoint of '{provider}' did not answer within {timeout.TotalSeconds:0.#} seconds.", null, cause),
            TokenExchangeException t => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange, t.Message, t.ProviderError, t),
            NotSupportedException n => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange, n.Message, null, n),
            // A strategy's own exception may carry anything (a user's subclass may quote the response), so its
            // message is not copied into the reason that reaches logs; the caller still gets it as the inner exception.
            _ => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange,
                $"The token exchange with '{provider}' failed ({cause.GetType().Name}).", null, cause),
        };
    }

    private static string SafeReason(Exception e)
    {
        var cause = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
        return cause is OAuthFlowException or HttpRequestException or TimeoutException or OperationCanceledException or InvalidOperationException or ArgumentException
            ? cause.Message
            : cause.GetType().Name;
    }

    private static async Task<T> RunWithTimeout<T>(Func<CancellationToken, Task<T>> work, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await work(cts.Token).WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} seconds.");
        }
    }
}
