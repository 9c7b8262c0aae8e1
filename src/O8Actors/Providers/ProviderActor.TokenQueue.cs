using Akka.Actor;
using Akka.Event;

namespace O8Actors.Providers;

/// <summary>
/// The token-request queue: the messages every behaviour takes, at most <c>_maxConcurrent</c> requests in flight and
/// <c>_maxQueued</c> waiting, a queued request dropped unsent when its login ends, withdraws it or its caller's
/// deadline passes, and the drain that stops a replaced provider once nothing is left.
/// </summary>
internal sealed partial class ProviderActor
{
    private void TokenRequests()
    {
        Receive<MetadataRefreshed>(MetadataRefreshed);
        Receive<PrepareEndSession>(msg => PrepareEndSession(msg, Sender));
        Receive<CheckEndSession>(msg => CheckEndSession(msg, Sender));
        Receive<FetchUserInfo>(msg => FetchUserInfo(msg, Sender));
        Receive<ValidateLogoutToken>(msg => ValidateLogoutToken(msg, Sender));
        Receive<ExchangeCode>(msg => Enqueue(msg));
        Receive<RefreshTokens>(msg => Enqueue(msg));
        Receive<RevokeTokens>(msg => Enqueue(msg));
        // Tokens nobody will take (refused here, or late for a login that is gone): queued like any token request, and
        // nobody waits for the answer.
        Receive<RevokeUnclaimedTokens>(msg =>
        {
            if (RevokeTokens.Of(msg.Tokens) is { Count: > 0 } revoke)
                Enqueue(new RevokeTokens(_strategy.Name, $"revoke-unclaimed-{Flows.FlowSecrets.RandomToken(6)}", revoke), ActorRefs.Nobody);
        });
        // Device logins: the device code request and each poll are token-endpoint traffic, queued and bounded like an exchange.
        Receive<RequestDeviceCode>(msg =>
        {
            if (!RefusedForStepUp(msg, Sender)) Enqueue(msg);
        });
        Receive<PollDeviceToken>(msg => Enqueue(msg));
        // A pushed authorization request a restarted incarnation handed on (queued here before, see Prepare).
        Receive<AuthorizeUrlBuild>(msg => Enqueue(msg));
        Receive<TokenRequestDone>(msg =>
        {
            _inFlight.Count--;
            if (msg.AnswerTime is { } answerTime) _answerTimes.Record(answerTime);
            StartWaiting();
            StopIfDrained();
        });
        Receive<DrainProvider>(_ =>
        {
            _draining = true;
            StopIfDrained();
        });
        // A login that ended (cancelled, timed out, stopped) while its exchange was queued: the code is never sent.
        Receive<Terminated>(msg => DropQueuedOf(msg.ActorRef));
        Receive<WithdrawExchange>(msg => Withdraw(msg, Sender));
    }

    private void Withdraw(WithdrawExchange msg, IActorRef login)
    {
        // Not found: already sent (or never queued here), so its answer comes as it would. A code exchange, a device
        // poll, a device-code request or a pushed authorization request: any may be what an ended login still has queued,
        // and each was told by the login.
        var withdrawn = TakeFromQueue(w => IsLoginsOwn(w.Request, w.ReplyTo, login, msg.LoginId));
        foreach (var (request, replyTo, watched) in withdrawn)
        {
            if (watched) Unwatch(replyTo);
            replyTo.Tell(Withdrawn(request));
        }

        // A device-code request or an authorization to prepare that waits for the provider's discovery (the provider's first
        // request) is taken back too: prepared once discovery ends, a pushed request would go out for a login long ended.
        var fromPending = 0;
        for (var i = _pending.Count - 1; i >= 0; i--)
        {
            var (request, replyTo) = _pending[i];
            if (!IsLoginsOwn(request, replyTo, login, msg.LoginId)) continue;
            replyTo.Tell(Withdrawn(request));
            _pending.RemoveAt(i);
            fromPending++;
        }

        if (withdrawn.Count > 0 || fromPending > 0) StopIfDrained();
    }

    /// <summary>Whether <paramref name="request"/>, told by <paramref name="replyTo"/>, is a token request of the login <paramref name="login"/> with <paramref name="loginId"/>.</summary>
    private static bool IsLoginsOwn(object request, IActorRef replyTo, IActorRef login, string loginId) =>
        request is ExchangeCode or PollDeviceToken or RequestDeviceCode or PrepareAuthorization or AuthorizeUrlBuild
        && replyTo.Equals(login) && RequestId(request) == loginId;

    private object Withdrawn(object request) => ProviderRequestFailures.For(request, LoginFailure.TokenExchange,
        $"The token request was withdrawn by its login while it waited in the queue of '{_strategy.Name}', and was not sent.");

    /// <summary>Watches <paramref name="login"/> for one more of its queued requests.</summary>
    private void Watch(IActorRef login)
    {
        var watched = _watchedRequests.GetValueOrDefault(login);
        if (watched == 0) Context.Watch(login);
        _watchedRequests[login] = watched + 1;
    }

    /// <summary>One of <paramref name="login"/>'s watched requests left the queue: unwatched once none is left.</summary>
    private void Unwatch(IActorRef login)
    {
        var left = _watchedRequests.GetValueOrDefault(login) - 1;
        if (left > 0)
        {
            _watchedRequests[login] = left;
            return;
        }

        _watchedRequests.Remove(login);
        Context.Unwatch(login);
    }

    private void DropQueuedOf(IActorRef ended)
    {
        _watchedRequests.Remove(ended);
        if (TakeFromQueue(w => w.ReplyTo.Equals(ended)).Count == 0) return;
        _log.Info("Provider {0}: a queued token request dropped unsent, its login has ended", _strategy.Name);
        StopIfDrained();
    }

    /// <summary>Takes the queued requests <paramref name="which"/> picks out of the queue (the rest keep their order) and returns them.</summary>
    private IReadOnlyList<(object Request, IActorRef ReplyTo, bool Watched)> TakeFromQueue(Func<(object Request, IActorRef ReplyTo, bool Watched), bool> which)
    {
        List<(object Request, IActorRef ReplyTo, bool Watched)>? taken = null;
        var count = _waiting.Count;
        for (var i = 0; i < count; i++)
        {
            var item = _waiting.Dequeue();
            if (which(item)) (taken ??= []).Add(item);
            else _waiting.Enqueue(item);
        }

        return taken ?? [];
    }

    private void StopIfDrained()
    {
        if (_draining && _inFlight.Count == 0 && _waiting.Count == 0 && _pending.Count == 0) Context.Stop(Self);
    }

    private void Enqueue(object request) => Enqueue(request, Sender);

    private void Enqueue(object request, IActorRef replyTo)
    {
        // A request that would wait behind a full queue fails at once: waiting longer than its login does helps nobody.
        if (_inFlight.Count >= _maxConcurrent && _waiting.Count >= _maxQueued)
        {
            DropExpired();
            // A token request (a code its user has just approved, an account's refresh) takes the place of the latest queued
            // pushed authorization request rather than being refused: that login has shown its user nothing yet.
            if (_waiting.Count >= _maxQueued && (request is AuthorizeUrlBuild || !RefuseLatestPush()))
            {
                _log.Warning("Provider {0}: token request of {1} refused, o8.providers.max-queued-exchanges ({2}) is reached",
                    _strategy.Name, RequestId(request), _maxQueued);
                replyTo.Tell(QueueFull(request));
                return;
            }
        }

        // Watched so a login that ends while its request waits takes it out of the queue. Only a login's requests
        // (its pushed authorization request, exchange, device code or poll): a refresh (from an account's actor, or an Ask) is bounded by its deadline instead.
        var watch = request is ExchangeCode or PollDeviceToken or RequestDeviceCode or AuthorizeUrlBuild && _inFlight.Count >= _maxConcurrent && !replyTo.IsNobody();
        if (watch) Watch(replyTo);
        _waiting.Enqueue((request, replyTo, watch));
        StartWaiting();
    }

    /// <summary>Refuses the pushed authorization request queued last, to make room; false when none is queued.</summary>
    private bool RefuseLatestPush()
    {
        var latest = -1;
        var index = 0;
        foreach (var queued in _waiting)
        {
            if (queued.Request is AuthorizeUrlBuild) latest = index;
            index++;
        }

        if (latest < 0) return false;
        var (request, replyTo, watched) = TakeAt(latest);
        if (watched) Unwatch(replyTo);
        _log.Warning("Provider {0}: pushed authorization request of {1} refused to make room for a token request, o8.providers.max-queued-exchanges ({2}) is reached",
            _strategy.Name, RequestId(request), _maxQueued);
        replyTo.Tell(QueueFull(request));
        return true;
    }

    /// <summary>
    /// The next queued request to send: the first that is not a pushed authorization request, else the first push. A code
    /// its user has approved, or an account's refresh, goes before a login that has shown its user nothing yet; a burst
    /// of new logins does not hold back the ones under way.
    /// </summary>
    private bool TryTakeNext(out (object Request, IActorRef ReplyTo, bool Watched) next)
    {
        if (!_waiting.TryPeek(out next)) return false;
        if (next.Request is AuthorizeUrlBuild)
        {
            var index = 0;
            foreach (var queued in _waiting)
            {
                if (queued.Request is not AuthorizeUrlBuild)
                {
                    next = TakeAt(index);
                    return true;
                }

                index++;
            }
        }

        _waiting.Dequeue();
        return true;
    }

    /// <summary>Takes the queued request at <paramref name="index"/> out of the queue; the rest keep their order.</summary>
    private (object Request, IActorRef ReplyTo, bool Watched) TakeAt(int index)
    {
        // TakeFromQueue asks its predicate once per request, in queue order.
        var position = 0;
        return TakeFromQueue(_ => position++ == index)[0];
    }

    private object QueueFull(object request) => ProviderRequestFailures.For(request, LoginFailure.ExchangeQueueFull,
        $"The token requests waiting for '{_strategy.Name}' reached o8.providers.max-queued-exchanges ({_maxQueued}); {WhatWasNotSent(request)} was not sent.");

    /// <summary>What a request refused or dropped unsent would have sent, for its reason.</summary>
    private static string WhatWasNotSent(object request) => request switch
    {
        RequestDeviceCode => "the device authorization request",
        PollDeviceToken => "the device token request",
        RefreshTokens => "the refresh",
        RevokeTokens => "the revocation",
        AuthorizeUrlBuild => "the pushed authorization request",
        _ => "the code",
    };

    private static string RequestId(object request) => request switch
    {
        ExchangeCode e => e.LoginId,
        RefreshTokens r => r.RequestId,
        RevokeTokens v => v.RequestId,
        RequestDeviceCode d => d.LoginId,
        PollDeviceToken p => p.LoginId,
        AuthorizeUrlBuild b => b.LoginId,
        PrepareAuthorization p => p.LoginId,
        _ => "?",
    };

    /// <summary>Whether <paramref name="request"/> is an exchange whose login has already given up on it.</summary>
    private bool Expired(object request) => request switch
    {
        ExchangeCode { Deadline: { } deadline } => ExchangeTimeouts.TooLateToSend(deadline, Context.System.Scheduler.Now, _exchangeTimeout, _answerTimes.Likely),
        PollDeviceToken { Deadline: { } deadline } => Context.System.Scheduler.Now >= deadline,
        // A device code asked for by a login whose deadline has passed would be shown to nobody.
        RequestDeviceCode { Deadline: { } deadline } => Context.System.Scheduler.Now >= deadline,
        RefreshTokens { Deadline: { } deadline } => Context.System.Scheduler.Now >= deadline,
        _ => false,
    };

    /// <summary>Whether <paramref name="request"/> is a refresh whose caller has cancelled its wait (see <see cref="RefreshTokens.CallerCancellation"/>).</summary>
    private static bool CallerCancelled(object request) => request is RefreshTokens { CallerCancellation.IsCancellationRequested: true };

    /// <summary>Removes the queued requests whose caller has given up (its deadline passed, or it cancelled); none is ever sent.</summary>
    private void DropExpired()
    {
        foreach (var dropped in TakeFromQueue(w => CallerCancelled(w.Request) || Expired(w.Request)))
        {
            // Out of the queue like a sent exchange, so its login is no longer watched either.
            if (dropped.Watched) Unwatch(dropped.ReplyTo);
            if (CallerCancelled(dropped.Request)) DropCancelled(dropped.Request);
            else AnswerExpired(dropped.Request, dropped.ReplyTo);
        }
    }

    private void DropCancelled(object request) =>
        // Unanswered: its caller's Ask has ended, an answer would only land in dead letters.
        _log.Info("Provider {0}: token refresh {1} dropped unsent, its caller cancelled while it waited in the queue", _strategy.Name, RequestId(request));

    private void AnswerExpired(object request, IActorRef replyTo)
    {
        _log.Info("Provider {0}: token request of {1} dropped unsent, it waited in the queue until it could no longer be answered before its caller's deadline",
            _strategy.Name, RequestId(request));
        // The caller may have given up already (then the answer is only so no one waits); a login still waiting ends with it.
        var answer = ProviderRequestFailures.For(request, LoginFailure.ExchangeTimeout,
            $"The token request waited in the queue of '{_strategy.Name}' until it could no longer be answered before its caller's deadline, and was not sent.");
        // A device-code request is dropped exactly at its login's deadline: the login times out, whichever comes first.
        replyTo.Tell(answer is DeviceCodeRefused refused ? refused with { LoginDeadlinePassed = true } : answer);
    }

    private void StartWaiting()
    {
        while (_inFlight.Count < _maxConcurrent && TryTakeNext(out var next))
        {
            // Out of the queue, the login's end no longer concerns this actor: without the unwatch every login that
            // ever waited would send a Terminated here and cost a scan of the queue.
            if (next.Watched) Unwatch(next.ReplyTo);
            if (CallerCancelled(next.Request))
            {
                DropCancelled(next.Request);
                continue;
            }

            if (Expired(next.Request))
            {
                AnswerExpired(next.Request, next.ReplyTo);
                continue;
            }

            _starting = (next.Request, next.ReplyTo);
            Run(next.Request, next.ReplyTo);
            _inFlight.Count++;
            _starting = null;
        }
    }
}
