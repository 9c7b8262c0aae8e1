namespace O8Actors;

/// <summary>
/// The one place that turns a failed login into the exception <c>AuthorizeAsync</c> (and <c>BeginAsync</c>) throws:
/// each <see cref="LoginFailure"/> has its exception type, or an <see cref="AuthorizationFailedException"/> naming it.
/// </summary>
internal static class LoginFailureExceptions
{
    /// <summary>The exception for <paramref name="failed"/>, carrying its login id.</summary>
    /// <param name="failed">The outcome.</param>
    /// <param name="provider">The provider asked for (named by <see cref="UnknownProviderException"/>).</param>
    /// <param name="maxPending"><c>o8.login.max-pending</c>, named by <see cref="TooManyPendingLoginsException"/>.</param>
    /// <param name="maxPendingPerPartition"><c>o8.login.max-pending-per-partition</c>.</param>
    public static OAuthFlowException For(LoginFailed failed, string provider, int maxPending, int maxPendingPerPartition)
    {
        var id = failed.LoginId;
        return failed.Failure switch
        {
            LoginFailure.TokenExchange or LoginFailure.ExchangeTimeout => new TokenExchangeException(failed.Reason, failed.ProviderError, failed.Cause) { LoginId = id },
            LoginFailure.IssuerMismatch => new IssuerMismatchException(failed.Reason) { LoginId = id },
            LoginFailure.RedirectMismatch => new RedirectMismatchException(failed.Reason) { LoginId = id },
            LoginFailure.BrowserMismatch => new BrowserMismatchException(failed.Reason) { LoginId = id },
            LoginFailure.UnknownProvider => new UnknownProviderException(provider, failed.Reason) { LoginId = id },
            LoginFailure.IdTokenInvalid => new IdTokenValidationException(failed.Reason, failed.Cause) { LoginId = id },
            LoginFailure.ExchangeQueueFull => new ProviderBusyException(failed.Reason) { LoginId = id },
            LoginFailure.ListenerUnavailable when failed.ListenerFailure is { } bind => ListenerFailure(bind, id),
            LoginFailure.TooManyPendingLogins => new TooManyPendingLoginsException("o8.login.max-pending", maxPending) { LoginId = id },
            LoginFailure.TooManyPendingLoginsInPartition =>
                new TooManyPendingLoginsException("o8.login.max-pending-per-partition", maxPendingPerPartition) { LoginId = id },
            _ => new AuthorizationFailedException(failed.Failure, failed.Reason) { LoginId = id },
        };
    }

    /// <summary>
    /// The exception a start would have thrown for the listener's failed bind, new for each caller (a login, or a
    /// <c>GetRedirectUriAsync</c>): the listener's one instance, thrown from every waiting caller at once, would have its
    /// stack trace rewritten by each of them, and it is also the one the app reads in <c>O8Status.ListenerFailure</c>.
    /// </summary>
    internal static OAuthFlowException ListenerFailure(OAuthFlowException bind, string? id) => bind switch
    {
        ListenerPortInUseException inUse => new ListenerPortInUseException(inUse.Port, inUse.TakenOn, inUse.InnerException) { LoginId = id },
        CertificateNotFoundException missing => new CertificateNotFoundException(missing.Message) { LoginId = id },
        _ => new ListenerStartException(bind.Message, bind.InnerException) { LoginId = id },
    };
}
