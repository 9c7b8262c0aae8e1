using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using O8Actors.Diagnostics;

namespace O8Actors.Providers;

/// <summary>
/// Running a token request taken from the queue (a code exchange, a refresh, a revocation, a device code or poll):
/// each under its time limit and its own span, answered to its caller straight from its task, and its failure turned
/// into the answer its caller reads.
/// </summary>
internal sealed partial class ProviderActor
{
    private void Run(object request, IActorRef replyTo)
    {
        var strategy = _strategy;
        var http = _httpClients();
        if (request is RevokeTokens revoke)
        {
            RunRevocation(revoke, replyTo, http);
            return;
        }

        if (request is RequestDeviceCode or PollDeviceToken)
        {
            RunDevice(request, replyTo, http);
            return;
        }

        if (request is AuthorizeUrlBuild build)
        {
            AnswerWhenDone(() => BuildingAuthorizeUrl(build, http), replyTo, success: url => build.Prepared(url),
                failure: e => build.Unavailable(SafeReason(e)));
            return;
        }

        // A login's code gets what is left of its login's deadline (all of one token request unless it queued), so its
        // answer always reaches the login; a refresh was sent in time for its caller by its own deadline.
        var timeout = request is ExchangeCode { Deadline: { } loginGivesUp }
            ? ExchangeTimeouts.ExchangeBudget(loginGivesUp, Context.System.Scheduler.Now, _exchangeTimeout)
            : _exchangeTimeout;
        // Waiting for the key set ends a tenth of the request's time limit before it (a discovery on the way included),
        // leaving time to hand back the tokens (a refresh) or revoke them (a login whose ID token cannot be checked).
        var keysDeadline = KeysDeadline(timeout);
        var (flowId, parent, work) = request switch
        {
            ExchangeCode e => (e.LoginId, e.Parent, (Func<CancellationToken, Task<TokenSet>>)(ct =>
                ExchangeAsync(strategy, new CodeExchangeContext(e.Code, e.CodeVerifier, e.RedirectUri, e.Nonce)
                {
                    DpopKey = e.DpopKey,
                    AuthenticatedNotBefore = e.AuthenticatedNotBefore,
                    AcceptedAcrValues = e.AcceptedAcrValues,
                    Scopes = e.Scopes,
                    KeysDeadline = keysDeadline,
                }, http, ct))),
            RefreshTokens r => (r.RequestId, default(ActivityContext), ct => RefreshAnswer.KeepingTheSentRefreshToken(
                IdTokens.RefreshedIdToken.SameUser(IssuedTokens.WithAccessToken(StrategyReturnedNoTaskException.Checked(strategy.RefreshAsync(
                    new RefreshContext(r.RefreshToken, r.Scopes) { DpopKey = r.DpopKey, KeysDeadline = keysDeadline }, http, ct)), strategy.Name),
                    r.PreviousIdToken, strategy.Name), r.RefreshToken)),
            _ => throw new InvalidOperationException($"Unexpected token request {request.GetType().Name}"),
        };
        var name = strategy.Name;
        AnswerWhenDone(() => RunWithTimeout(ct => Traced("o8.token_request", work, parent, name, ct), timeout), replyTo,
            success: tokens => IssuedTokens.Refusal(tokens, name) is { } refusal
                ? (object)ToFailure(flowId, name, timeout, refusal)
                : new CodeExchanged(flowId, tokens) { ForLogin = request is ExchangeCode },
            failure: e => ToFailure(flowId, name, timeout, e),
            timesAnswers: true);
    }

    /// <summary>
    /// Answers a running token request's caller straight from its task, then frees its slot here. Not through this
    /// actor: stopped meanwhile (the registry gave up on it after repeated failures), it would lose the answer, and
    /// with a code or a rotated refresh token spent at the provider, the tokens with it. The answer's sender is this
    /// actor, as a reply from it would be. With <paramref name="timesAnswers"/>, an answer's time (tokens or an error
    /// response, in scheduler time like the deadlines it is weighed against) goes back with the freed slot. The request
    /// is started here, after its start time is read: read after, it would leave out whatever time passed while the
    /// request began (the strategy's synchronous part), and an endpoint would look faster than it is.
    /// </summary>
    private void AnswerWhenDone<T>(Func<Task<T>> start, IActorRef replyTo, Func<T, object> success, Func<Exception, object> failure,
        bool timesAnswers = false)
    {
        var self = Self;
        var scheduler = Context.System.Scheduler;
        var started = scheduler.Now;
        var running = start();
        _ = AnswerAsync();

        async Task AnswerAsync()
        {
            object reply;
            var answered = true;
            try
            {
                reply = success(await running.ConfigureAwait(false));
            }
            catch (Exception e)
            {
                reply = failure(e);
                var cause = Unwrapped(e);
                // The endpoint's refusals, and ID tokens it issued that failed their checks; not what failed without its answer,
                // which took no answer's time (counted as one, it made the endpoint look fast and queued codes were sent late).
                answered = cause is (TokenExchangeException or IdTokenValidationException) and OAuthFlowException { NoEndpointAnswer: false };
                // Tokens issued and then refused (with an ID token that failed its checks, or unbound on a DPoP login)
                // are live at the provider and nobody will use them: revoked (RFC 7009).
                var refused = cause switch
                {
                    IdTokenValidationException v => v.Issued,
                    TokenExchangeException t => t.Issued,
                    _ => null,
                };
                if (refused is not null) self.Tell(new RevokeUnclaimedTokens(refused), ActorRefs.Nobody);
            }

            replyTo.Tell(reply, self);
            self.Tell(new TokenRequestDone(timesAnswers && answered ? scheduler.Now - started : null));
        }
    }

    /// <summary>
    /// A code exchange; a step-up one only on a strategy that enforces it (its authorize URL was prepared by one, but the
    /// provider may have been replaced since), else refused before the code is sent.
    /// </summary>
    private static Task<TokenSet> ExchangeAsync(ProviderStrategy strategy, CodeExchangeContext context, HttpClient http, CancellationToken ct) =>
        context.RequiresIdToken && !strategy.EnforcesStepUp
            ? Task.FromException<TokenSet>(new IdTokenValidationException(StepUp.Unenforced(strategy)) { NoEndpointAnswer = true })
            : StrategyReturnedNoTaskException.Checked(strategy.ExchangeCodeAsync(context, http, ct));

    /// <summary>
    /// Revokes the tokens in order (RFC 7009), each one asked even when one before it was refused (a server may refuse
    /// to revoke one type of token, section 2.2.1, and still revoke the other); fails with the first refusal. A strategy
    /// without a revocation endpoint answers <see cref="RevocationOutcome.NotSupported"/> for the first token and
    /// nothing is sent. The deadline covers them all.
    /// </summary>
    private void RunRevocation(RevokeTokens revoke, IActorRef replyTo, HttpClient http)
    {
        var strategy = _strategy;
        var timeout = _exchangeTimeout;
        var (log, unheard) = (_log, replyTo.IsNobody());
        AnswerWhenDone(() => RunWithTimeout(async ct =>
        {
            Exception? refused = null;
            foreach (var token in revoke.Tokens)
            {
                try
                {
                    if (!await StrategyReturnedNoTaskException.Checked(strategy.RevokeAsync(token, http, ct)).ConfigureAwait(false))
                        return RevocationOutcome.NotSupported;
                }
                catch (TokenExchangeException e)
                {
                    refused ??= e;
                }
            }

            if (refused is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(refused);
            return RevocationOutcome.Revoked;
        }, timeout), replyTo,
            success: outcome => new RevocationDone(revoke.RequestId, outcome),
            failure: e => Failed(revoke.RequestId, $"The revocation with '{strategy.Name}' failed: {SafeReason(e)}"));

        // Tokens dropped with nobody holding them (a late refresh's after a sign-out, a login's unclaimed ones...) are
        // revoked on a request nobody waits for: its failure would be told to no one, and the grant would stay live at
        // the provider without a trace. Logged, as the login logs its own (the request id names the kind, never a token).
        RevocationDone Failed(string requestId, string reason)
        {
            if (unheard) log.Warning("{0}: tokens nobody holds were not revoked ({1}); they live at the provider until they expire", requestId, reason);
            return new RevocationDone(requestId, RevocationOutcome.Failed, reason);
        }
    }

    /// <summary>
    /// A device login's request: the device code, or one poll. A provider without the device grant answers
    /// <see cref="LoginFailure.ProviderUnavailable"/>, so an automatic choice can fall back to the browser.
    /// </summary>
    private void RunDevice(object request, IActorRef replyTo, HttpClient http)
    {
        var strategy = _strategy;
        // A device code is asked for only once the provider is resolved (like a browser login's authorize URL), so the
        // descriptor says whether the provider binds tokens; polls carry the login's key and need no descriptor.
        var usesDpop = CurrentDescriptor.UsesDpop;
        var name = strategy.Name;
        var timeout = _exchangeTimeout;
        var (loginId, parent, work) = request switch
        {
            RequestDeviceCode d => (d.LoginId, d.Parent, (Func<CancellationToken, Task<object>>)(async ct =>
                new DeviceCodeIssued(d.LoginId, ShowableDeviceCode.Checked(await StrategyReturnedNoTaskException.Checked(strategy.RequestDeviceAuthorizationAsync(
                    new DeviceAuthorizationContext(d.Scopes, d.ExtraParameters), http, ct)).ConfigureAwait(false), name),
                    // A key per login, as for the browser login (RFC 9449): the polls sign with it.
                    usesDpop ? Dpop.DpopKey.Create() : null))),
            PollDeviceToken p => (p.LoginId, p.Parent, async ct =>
                new DeviceTokenPolled(p.LoginId, await StrategyReturnedNoTaskException.Checked(strategy.PollDeviceTokenAsync(
                    new DeviceTokenContext(p.DeviceCode) { DpopKey = p.DpopKey, KeysDeadline = KeysDeadline(timeout), Scopes = p.Scopes }, http, ct)).ConfigureAwait(false))),
            _ => throw new InvalidOperationException($"Unexpected device request {request.GetType().Name}"),
        };
        AnswerWhenDone(() => RunWithTimeout(ct => Traced("o8.device_request", work, parent, name, ct), timeout), replyTo,
            success: reply => reply,
            failure: e => ProviderRequestFailures.Answer(request, ToDeviceFailure(loginId, name, timeout, e)));
    }

    /// <summary>When a token request's wait for the key set ends: a tenth of its time limit before the limit.</summary>
    private static long KeysDeadline(TimeSpan timeout) => IdTokens.JwksCache.DeadlineIn(timeout - timeout / 10);

    private static CodeExchangeFailed ToDeviceFailure(string loginId, string provider, TimeSpan timeout, Exception error)
    {
        var cause = Unwrapped(error);
        return cause switch
        {
            NotSupportedException n => new CodeExchangeFailed(loginId, LoginFailure.ProviderUnavailable, n.Message, null, n) { BrowserMayServe = true },
            // The login's own request refused before anything was sent (a reserved parameter): said as a browser login's
            // authorize URL says it, and the browser would refuse it the same way.
            ArgumentException a => new CodeExchangeFailed(loginId, LoginFailure.ProviderUnavailable, SafeReason(a), null, a),
            _ => ToFailure(loginId, provider, timeout, error),
        };
    }

    /// <summary>
    /// Runs one token request under its own span, a child of the login's (so the HTTP client's span nests under it).
    /// Async, so the span is current only inside the request and never leaks onto the actor's thread. Without a
    /// listener there is no span, and the request runs as it is.
    /// </summary>
    private static Task<T> Traced<T>(string span, Func<CancellationToken, Task<T>> work, ActivityContext parent, string provider, CancellationToken ct) =>
        O8Metrics.ActivitySource.HasListeners() ? TracedAsync(span, work, parent, provider, ct) : work(ct);

    private static async Task<T> TracedAsync<T>(string span, Func<CancellationToken, Task<T>> work, ActivityContext parent, string provider, CancellationToken ct)
    {
        using var activity = O8Metrics.ActivitySource.StartActivity(span, ActivityKind.Internal, parent);
        activity?.SetTag("o8.provider", provider);
        return await work(ct).ConfigureAwait(false);
    }

    private static CodeExchangeFailed ToFailure(string flowId, string provider, TimeSpan timeout, Exception error)
    {
        var cause = Unwrapped(error);
        return cause switch
        {
            TimeoutException or OperationCanceledException => new CodeExchangeFailed(flowId, LoginFailure.ExchangeTimeout,
                $"The token endpoint of '{provider}' did not answer within {timeout.TotalSeconds:0.#} seconds.", null, cause),
            IdTokenValidationException v => new CodeExchangeFailed(flowId, LoginFailure.IdTokenInvalid, v.Message, null, v.WithoutIssued()),
            TokenExchangeException t => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange, t.Message, t.ProviderError, t.WithoutIssued()),
            NotSupportedException n => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange, n.Message, null, n),
            StrategyReturnedNoTaskException none => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange,
                $"The token request to '{provider}' failed: {none.Message}", null, none),
            // A strategy's own exception may carry anything (a user's subclass may quote the response), so its
            // message is not copied into the reason that reaches logs. A RefreshAsync or AuthorizeAsync caller still gets
            // it as the inner exception (built on the caller's side); an account's caller does not (AccountActor.RefreshException).
            _ => new CodeExchangeFailed(flowId, LoginFailure.TokenExchange,
                $"The token exchange with '{provider}' failed ({cause.GetType().Name}).", null, cause),
        };
    }
}
