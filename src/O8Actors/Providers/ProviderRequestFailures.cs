namespace O8Actors.Providers;

/// <summary>
/// The failure each provider request's sender waits for, for a request no provider actor will serve: its provider is
/// not registered, or its actor has stopped (the registry gave up on it, or it drained). One table for the registry and
/// the dead letters' watcher, so a sender hears the same kind of answer whichever of them answers.
/// </summary>
internal static class ProviderRequestFailures
{
    /// <summary>The provider a request is for, or null when <paramref name="message"/> is no request with an answer.</summary>
    public static string? ProviderOf(object message) => message switch
    {
        PrepareAuthorization p => p.Provider,
        CheckBrowserLogin c => c.Provider,
        AuthorizeUrlBuild b => b.Provider,
        PrepareEndSession s => s.Provider,
        CheckEndSession s => s.Provider,
        FetchUserInfo u => u.Provider,
        ValidateLogoutToken l => l.Provider,
        ExchangeCode e => e.Provider,
        RefreshTokens r => r.Provider,
        RequestDeviceCode d => d.Provider,
        PollDeviceToken p => p.Provider,
        RevokeTokens r => r.Provider,
        _ => null,
    };

    /// <summary>
    /// The failure <paramref name="request"/>'s sender waits for, with <paramref name="failure"/> and
    /// <paramref name="reason"/> (safe to log and show: it names the provider, never a request's secrets).
    /// </summary>
    public static object For(object request, LoginFailure failure, string reason) => request switch
    {
        PrepareAuthorization p => new ProviderUnavailable(p.LoginId, reason, failure),
        CheckBrowserLogin c => new ProviderUnavailable(c.LoginId, reason, failure),
        AuthorizeUrlBuild b => new ProviderUnavailable(b.LoginId, reason, failure),
        PrepareEndSession s => new ProviderUnavailable(s.RequestId, reason, failure),
        CheckEndSession s => new ProviderUnavailable(s.RequestId, reason, failure),
        FetchUserInfo u => new ProviderUnavailable(u.RequestId, reason, failure),
        ValidateLogoutToken l => new ProviderUnavailable(l.RequestId, reason, failure),
        ExchangeCode e => new CodeExchangeFailed(e.LoginId, failure, reason, null),
        RefreshTokens r => new CodeExchangeFailed(r.RequestId, failure, reason, null),
        RequestDeviceCode d => new DeviceCodeRefused(new CodeExchangeFailed(d.LoginId, failure, reason, null)),
        PollDeviceToken p => new CodeExchangeFailed(p.LoginId, failure, reason, null),
        RevokeTokens r => new RevocationDone(r.RequestId, RevocationOutcome.Failed, reason),
        _ => throw new ArgumentException($"Not a provider request: {request.GetType().Name}.", nameof(request)),
    };

    /// <summary>
    /// What the sender of the token request <paramref name="request"/> reads for <paramref name="failure"/>: a
    /// device-code request's failure comes in its own type (<see cref="DeviceCodeRefused"/>), every other one as it is.
    /// </summary>
    public static object Answer(object request, CodeExchangeFailed failure) =>
        request is RequestDeviceCode ? new DeviceCodeRefused(failure) : failure;

    /// <summary>
    /// Why a request for a provider whose actor has stopped was not served (it was never sent to the provider: a code,
    /// a refresh token or a device code in it is unspent). <paramref name="how"/> says how the actor stopped.
    /// </summary>
    public static string Stopped(string provider, string how) =>
        $"The provider '{provider}' is unavailable: its actor stopped {how}, and the request was not sent. " +
        "Register the provider again to use it.";
}
