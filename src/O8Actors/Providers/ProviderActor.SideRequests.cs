using Akka.Actor;

namespace O8Actors.Providers;

/// <summary>
/// The requests that are not token-endpoint traffic, so they never queue behind token requests: a sign-out's
/// end-session URL, a UserInfo call and a back-channel logout token's validation, each run by the strategy and piped to
/// its caller.
/// </summary>
internal sealed partial class ProviderActor
{
    /// <summary>
    /// A sign-out's end-session URL: built by the strategy (which reads its metadata first when it has not yet) and piped
    /// to the sign-out; no token request, so it does not queue behind them.
    /// </summary>
    private void PrepareEndSession(PrepareEndSession msg, IActorRef replyTo)
    {
        try
        {
            var postLogoutRedirectUri = RedirectUriFor(msg.ListenerRedirectUri);
            var context = new EndSessionContext(msg.State, postLogoutRedirectUri, msg.IdTokenHint);
            var strategy = _strategy;
            var http = _httpClients();
            var requestId = msg.RequestId;
            RunWithTimeout(ct => strategy.BuildEndSessionUrlAsync(context, http, ct), _exchangeTimeout).PipeTo(replyTo,
                success: url => new EndSessionPrepared(requestId, url, postLogoutRedirectUri),
                failure: e => new ProviderUnavailable(requestId, $"The provider '{strategy.Name}' could not build an end-session URL: {SafeReason(e)}"));
        }
        catch (Exception e)
        {
            replyTo.Tell(new ProviderUnavailable(msg.RequestId, $"The provider '{_strategy.Name}' could not build an end-session URL: {SafeReason(e)}"));
        }
    }

    /// <summary>
    /// Whether the provider has an end-session endpoint, for a sign-out whose listener has not bound yet: asked of the
    /// strategy (which reads its metadata first when it has not yet) and piped to the sign-out, as its URL would be.
    /// </summary>
    private void CheckEndSession(CheckEndSession msg, IActorRef replyTo)
    {
        var strategy = _strategy;
        var requestId = msg.RequestId;
        var httpClients = _httpClients;
        // The client is made inside the work, so a factory that throws fails this request and not the actor.
        RunWithTimeout(ct => strategy.HasEndSessionEndpointAsync(httpClients(), ct), _exchangeTimeout).PipeTo(replyTo,
            success: supported => new EndSessionChecked(requestId, supported),
            failure: e => new ProviderUnavailable(requestId, $"The provider '{strategy.Name}' could not be asked for its end-session endpoint: {SafeReason(e)}"));
    }

    /// <summary>
    /// A UserInfo request: run by the strategy (which reads its metadata first when it has not yet) and piped to the
    /// caller; not token-endpoint traffic, so it does not queue behind token requests.
    /// </summary>
    private void FetchUserInfo(FetchUserInfo msg, IActorRef replyTo)
    {
        var strategy = _strategy;
        var requestId = msg.RequestId;
        var context = msg.Context;
        var httpClients = _httpClients;
        // The client is made inside the work, so a factory that throws fails this request and not the actor.
        RunWithTimeout(ct => strategy.FetchUserInfoAsync(context, httpClients(), ct), _exchangeTimeout).PipeTo(replyTo,
            success: document => new UserInfoFetched(requestId, document),
            failure: e => new UserInfoFetchFailed(requestId, UserInfoError(strategy.Name, e)));
    }

    /// <summary>What the caller throws for a failed UserInfo request: the strategy's own <see cref="UserInfoException"/>, or one that says why without quoting a strategy's text.</summary>
    private static UserInfoException UserInfoError(string provider, Exception e)
    {
        var cause = Unwrapped(e);
        return cause as UserInfoException ?? new UserInfoException(UserInfoFailure.Failed,
            $"The UserInfo request to provider '{provider}' failed: {SafeReason(cause)}", innerException: cause);
    }

    /// <summary>
    /// A back-channel logout token: validated by the strategy (which reads its metadata first when it has not yet) and
    /// answered to the caller, who then has its <c>jti</c> accepted once (<see cref="Logout.LogoutTokenReplayGuard"/>).
    /// </summary>
    private void ValidateLogoutToken(ValidateLogoutToken msg, IActorRef replyTo)
    {
        var strategy = _strategy;
        var name = strategy.Name;
        var requestId = msg.RequestId;
        var token = msg.Token;
        var httpClients = _httpClients;
        RunWithTimeout(ct => strategy.ValidateLogoutTokenAsync(token, httpClients(), ct), _exchangeTimeout).PipeTo(replyTo,
            success: valid => valid is null
                ? new LogoutTokenRefused(requestId, new BackChannelLogoutException(BackChannelLogoutFailure.NotSupported,
                    $"The provider '{name}' validates no ID tokens here (no key set: set JwksUri, or use a provider whose metadata lists jwks_uri), so its logout tokens cannot be checked. No account was signed out."))
                : new LogoutTokenAccepted(requestId, valid),
            failure: e =>
            {
                var cause = Unwrapped(e);
                return new LogoutTokenRefused(requestId, cause as BackChannelLogoutException
                    ?? new BackChannelLogoutException(BackChannelLogoutFailure.Failed, $"The logout token from '{name}' could not be checked: {SafeReason(cause)}", cause));
            });
    }
}
