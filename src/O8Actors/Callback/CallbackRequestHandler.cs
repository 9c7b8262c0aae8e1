using Akka.Actor;
using Akka.Event;
using Microsoft.AspNetCore.Http;
using O8Actors.Diagnostics;
using O8Actors.Runtime;

namespace O8Actors.Callback;

/// <summary>
/// Kestrel's request delegate. Stray requests are answered here without a message to the actor; a candidate callback
/// is an Ask to the <see cref="CallbackServerActor"/>, answered by the login once its token exchange is done.
/// </summary>
/// <remarks>
/// <c>checkLoopbackHost: false</c> is server mode (<c>MapOAuthCallback</c>): the host app's public name is in the Host
/// header, and the app's own pipeline (AllowedHosts) polices it instead of the loopback rule. There,
/// <c>browserSecrets</c> reads the browser-binding secrets the request presents (cookies, or the app's session), which
/// the login checks before its code is used, and <c>onAnswer</c> may add headers (clear that login's cookie) or turn the page into a redirect of the app's before it is written.
/// With <c>systemEnd</c>, a callback waiting for its login when the actor system terminates (a node downed or leaving
/// while the web host runs on) is answered the shutting-down page at once instead of waiting out <c>askTimeout</c>.
/// </remarks>
internal sealed class CallbackRequestHandler(IActorRef listener, string callbackPath, TimeSpan askTimeout, ILoggingAdapter log,
    bool checkLoopbackHost = true, Func<HttpContext, IReadOnlyDictionary<string, string>?>? browserSecrets = null,
    Func<HttpContext, CallbackResponse, CallbackResponse>? onAnswer = null, IActorRefProvider? localReplies = null,
    ActorSystemEnd? systemEnd = null)
{
    // Loopback mode: the page comes back through a reply of this process's own (CallbackPageReply), not an Ask.
    private readonly ActorPath? _replyPath = localReplies?.TempPath();

    /// <summary>Answers one request. Never throws for a bad request, a lost login or a timeout: each gets a page.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        // The whole path the browser asked for: an app under a path base (UsePathBase, a proxy's prefix) has part of it
        // in PathBase, and the redirect URIs carry it. The loopback listener has none.
        var path = request.PathBase.Add(request.Path).Value;
        var verdict = CallbackRequestClassifier.Classify(request.Method, path,
            checkLoopbackHost ? request.Headers.Host.ToString() : "localhost", request.QueryString.Value, callbackPath);
        var ct = context.RequestAborted;
        if (!verdict.IsCandidate && !verdict.MayBeSignOutReturn)
        {
            O8Metrics.CallbackRejected(ReasonTag(verdict.Verdict));
            // Debug, never Warning: any local process can send these as fast as it likes, and a Warning line each would
            // let it flood the app's log (one CI run printed 6,720). The metric above counts them by reason. The reason
            // only: never the query string, which may carry a code or state.
            log.Debug("Callback listener rejected a request: {0}", verdict.Verdict);
            await CallbackHttpResponder.WriteAsync(context, PageFor(verdict.Verdict), ct).ConfigureAwait(false);
            return;
        }

        // A store that failed gets the ended page without the login being asked; either page goes through the app's hook.
        var page = TryReadBrowserSecrets(context, verdict, out var secrets)
            ? await RouteAsync(verdict, path, secrets, ct).ConfigureAwait(false)
            : CallbackPages.LoginGone;
        if (page is null) return; // The browser went away; nobody is left to show a page to.

        if (onAnswer is not null) page = onAnswer(context, page);
        await CallbackHttpResponder.WriteAsync(context, page, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The app's own store of the browser's binding (its session, a cache), read outside the wait for the login, so a
    /// store's own timeout is not taken for the login's (a 504 "did not finish in time" for a login never asked). Only for
    /// a login's callback: a sign-out's return (a state alone) needs no binding, and a store that is down must not keep the
    /// user from it. False when the store failed.
    /// </summary>
    private bool TryReadBrowserSecrets(HttpContext context, CallbackClassification verdict, out IReadOnlyDictionary<string, string>? secrets)
    {
        try
        {
            secrets = verdict.IsCandidate ? browserSecrets?.Invoke(context) : null;
            return true;
        }
        catch (Exception ex)
        {
            log.Warning("Callback listener: the app's browser binding store failed: {0}", ex.GetType().Name);
            secrets = null;
            return false;
        }
    }

    /// <summary>The page the login (or sign-out) the request's state names answers with; null when the browser went away.</summary>
    private async Task<CallbackResponse?> RouteAsync(CallbackClassification verdict, string? path, IReadOnlyDictionary<string, string>? secrets,
        CancellationToken ct)
    {
        try
        {
            // A state without code or error goes on too: the listener routes it to a sign-out's registration or answers
            // the same 400 as before, without touching a login (CallbackServerActor.Route).
            var message = new CallbackReceived(verdict.State!, verdict.Code, verdict.Error, verdict.ErrorDescription, verdict.Issuer,
                ExternalText.Clean(path, ExternalText.MaxTextLength))
            {
                BrowserSecrets = secrets,
            };
            var answer = localReplies is null
                ? listener.Ask<CallbackResponse>(message, askTimeout, ct)
                : AskLocallyAsync(message, localReplies, ct);
            return await (systemEnd is null ? answer : systemEnd.UntilEndedAsync(answer, fallback: SystemEnded)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            log.Warning("Callback listener: the login did not answer within {0}", askTimeout);
            return CallbackPages.TimedOut;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex)
        {
            log.Warning("Callback listener: routing a callback failed: {0}", ex.GetType().Name);
            return CallbackPages.LoginGone;
        }
    }

    /// <summary>The page for a callback whose login can no longer answer: the actor system terminated first.</summary>
    private CallbackResponse SystemEnded()
    {
        // Not a Warning: every browser still sent here would log one.
        log.Debug("Callback listener: the actor system terminated before the login answered");
        return CallbackPages.ShuttingDown;
    }

    private Task<CallbackResponse> AskLocallyAsync(CallbackReceived message, IActorRefProvider provider, CancellationToken ct)
    {
        var reply = new CallbackPageReply(provider, _replyPath!);
        listener.Tell(message, reply);
        return reply.Page.WaitAsync(askTimeout, ct);
    }

    private static string ReasonTag(CallbackVerdict verdict) => verdict switch
    {
        CallbackVerdict.MethodNotAllowed => "method_not_allowed",
        CallbackVerdict.NotFound => "not_found",
        CallbackVerdict.HostNotLoopback => "host_not_loopback",
        CallbackVerdict.MissingQuery => "missing_query",
        CallbackVerdict.MissingState => "missing_state",
        CallbackVerdict.DuplicateParameter => "duplicate_parameter",
        _ => O8Metrics.MissingCodeAndErrorReason,
    };

    private static CallbackResponse PageFor(CallbackVerdict verdict) => verdict switch
    {
        CallbackVerdict.MethodNotAllowed => CallbackPages.MethodNotAllowed,
        CallbackVerdict.NotFound => CallbackPages.NotFound,
        CallbackVerdict.HostNotLoopback => CallbackPages.HostNotLoopback,
        _ => CallbackPages.Malformed,
    };
}
