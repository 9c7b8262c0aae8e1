namespace O8Actors;

/// <summary>
/// Base of every error O8Actors raises to a caller. Messages never contain a token, code, secret or verifier.
/// </summary>
public abstract class OAuthFlowException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected OAuthFlowException(string message, Exception? innerException = null) : base(message, innerException) { }

    /// <summary>The login's public id, when the error belongs to one login.</summary>
    public string? LoginId { get; init; }

    /// <summary>
    /// A token request that failed without an answer from its endpoint: refused before it was sent (a step-up nobody
    /// could check, a DPoP refresh without its key), or failed before any response (a refused connection). The provider
    /// actor learns its endpoint's answer time from the others only.
    /// </summary>
    internal bool NoEndpointAnswer { get; init; }
}

/// <summary>
/// The browser did not come back in time (the original's <c>TimeoutError</c>); in a device login (RFC 8628), the user
/// did not approve the code in time. The message says which.
/// </summary>
public sealed class AuthorizationTimeoutException : OAuthFlowException
{
    /// <summary>Creates the exception of a browser login that was not redirected back within <paramref name="timeout"/>.</summary>
    /// <param name="timeout">The timeout that passed.</param>
    public AuthorizationTimeoutException(TimeSpan timeout)
        // No listener named: in server mode the redirect goes to the web app's own callback endpoint.
        : this(timeout, $"Authorization timed out: the browser was not redirected back from the provider within {timeout.TotalSeconds:0.#} seconds.")
    {
    }

    /// <summary>Creates the exception with a message of its own (a device login, a caller's wait, one carried between nodes).</summary>
    internal AuthorizationTimeoutException(TimeSpan timeout, string message) : base(message) => Timeout = timeout;

    /// <summary>The exception a caller gets for <paramref name="timedOut"/>, its message naming what the login waited for.</summary>
    internal static AuthorizationTimeoutException For(LoginTimedOut timedOut)
    {
        var seconds = timedOut.Timeout.TotalSeconds;
        var message = timedOut.Waiting switch
        {
            TimedOutWaiting.DeviceApproval =>
                $"Authorization timed out: the user did not approve the device code within {seconds:0.#} seconds, or the code expired.",
            TimedOutWaiting.DeviceCode =>
                $"Authorization timed out: the provider did not issue a device code within {seconds:0.#} seconds " +
                "(its device authorization endpoint was slow, or its token requests waited in o8.providers' queue).",
            TimedOutWaiting.AuthorizeUrl =>
                $"Authorization timed out: the login had no authorize URL within {seconds:0.#} seconds, so no browser " +
                "was opened (the listener's start, the provider's discovery or its pushed authorization request took longer; a longer " +
                "timeout lets it finish).",
            _ => null,
        };
        return message is null
            ? new AuthorizationTimeoutException(timedOut.Timeout) { LoginId = timedOut.LoginId }
            : new AuthorizationTimeoutException(timedOut.Timeout, message) { LoginId = timedOut.LoginId };
    }

    /// <summary>The timeout that passed.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>The provider, or the user at the provider, refused the authorization.</summary>
public sealed class AuthorizationDeniedException(string error, string? errorDescription)
    : OAuthFlowException(errorDescription is null
        ? $"Authorization denied by the provider: {error}."
        : $"Authorization denied by the provider: {error} ({errorDescription}).")
{
    /// <summary>The provider's <c>error</c> code, for example <c>access_denied</c>.</summary>
    public string Error { get; } = error;

    /// <summary>The provider's <c>error_description</c>, if any.</summary>
    public string? ErrorDescription { get; } = errorDescription;
}

/// <summary>The code could not be exchanged for tokens (the original's "Failed to obtain access token").</summary>
public sealed class TokenExchangeException(string message, string? providerError = null, Exception? innerException = null)
    : OAuthFlowException(message, innerException)
{
    /// <summary>The provider's <c>error</c> code (for example <c>invalid_grant</c>), if it sent one.</summary>
    public string? ProviderError { get; } = providerError;

    /// <summary>
    /// Tokens a login's token request was issued and then refused (a DPoP login answered with unbound bearer tokens), for
    /// the provider actor to revoke (RFC 7009): live at the provider, nobody may use them. Taken off before the exception
    /// travels further (<see cref="WithoutIssued"/>).
    /// </summary>
    internal TokenSet? Issued { get; init; }

    /// <summary>This failure as a caller may see it: without the issued tokens.</summary>
    internal TokenExchangeException WithoutIssued() => Issued is null ? this : new(Message, ProviderError, InnerException) { NoDpopKey = NoDpopKey };

    /// <summary>
    /// A refresh not sent: the provider binds tokens with DPoP and the refresh came without a key (an account's tokens
    /// stored without theirs); the account's callers are told to sign in again (<see cref="InteractionReason.NoDpopKey"/>).
    /// </summary>
    internal bool NoDpopKey { get; init; }
}

/// <summary>The callback's issuer did not match the provider (RFC 9207 mix-up defence).</summary>
public sealed class IssuerMismatchException(string message) : OAuthFlowException(message);

/// <summary>
/// The provider's response arrived on another provider's redirect path: another authorization server sent it (the mix-up
/// attack of RFC 9700 section 4.4), so its code was not used. Starting the sign-in again is safe.
/// </summary>
public sealed class RedirectMismatchException(string message) : OAuthFlowException(message);

/// <summary>
/// The provider's queue of token requests was full (<c>o8.providers.max-queued-exchanges</c>), so the code (or a device
/// login's request) was not sent and the login failed at once instead of waiting past its deadline. Try again in a moment.
/// </summary>
public sealed class ProviderBusyException(string message) : OAuthFlowException(message);

/// <summary>
/// A login failed for a reason with no exception type of its own (<see cref="LoginFailure.ProviderUnavailable"/>,
/// <see cref="LoginFailure.ListenerUnavailable"/>, <see cref="LoginFailure.InvalidCallback"/>,
/// <see cref="LoginFailure.UnsafeAuthorizeUrl"/>, <see cref="LoginFailure.Internal"/>); <see cref="Failure"/> says which.
/// </summary>
public sealed class AuthorizationFailedException(LoginFailure failure, string message)
    : OAuthFlowException(message)
{
    /// <summary>What kind of failure.</summary>
    public LoginFailure Failure { get; } = failure;
}

/// <summary>The redirect listener's port is taken by another process.</summary>
public sealed class ListenerPortInUseException : OAuthFlowException
{
    /// <summary>Creates the exception for <paramref name="port"/>.</summary>
    /// <param name="port">The port that was taken.</param>
    /// <param name="innerException">The bind's own failure, if any.</param>
    public ListenerPortInUseException(int port, Exception? innerException = null) : this(port, null, innerException)
    {
    }

    /// <summary>The same, naming the loopback address(es) where the port was found taken (127.0.0.1, [::1]).</summary>
    internal ListenerPortInUseException(int port, string? takenOn, Exception? innerException)
        : base(Describe(port, takenOn), innerException)
    {
        Port = port;
        TakenOn = takenOn;
    }

    private static string Describe(int port, string? takenOn) =>
        $"The redirect listener cannot bind port {port} on loopback: the port is already in use{(takenOn is null ? "" : $" on {takenOn}")}. " +
        "Stop the other process or set o8.listener.port to a free port.";

    /// <summary>The port that was taken.</summary>
    public int Port { get; }

    /// <summary>The loopback address(es) where the port was found taken; null when unknown.</summary>
    internal string? TakenOn { get; }
}

/// <summary>The listener could not start for another reason.</summary>
public sealed class ListenerStartException(string message, Exception? innerException = null)
    : OAuthFlowException(message, innerException);

/// <summary>No mkcert certificate was found and none could be created.</summary>
public sealed class CertificateNotFoundException(string message) : OAuthFlowException(message);

/// <summary>No provider of that name is registered.</summary>
public sealed class UnknownProviderException : OAuthFlowException
{
    /// <summary>Creates the exception for <paramref name="provider"/>.</summary>
    /// <param name="provider">The name asked for.</param>
    public UnknownProviderException(string provider)
        : this(provider, $"No OAuth provider named '{provider}' is registered.")
    {
    }

    /// <summary>The same with the failed login's own reason (a cluster's names the node where the provider was unknown).</summary>
    internal UnknownProviderException(string provider, string message)
        : base(message) => Provider = provider;

    /// <summary>The name asked for.</summary>
    public string Provider { get; }
}

/// <summary>
/// A login was refused at once because a limit on logins running at the same time was reached
/// (<c>o8.login.max-pending</c>, or <c>o8.login.max-pending-per-partition</c> for one <see cref="AuthorizationRequest.Partition"/>).
/// Try again once a login has ended.
/// </summary>
public sealed class TooManyPendingLoginsException(string setting, int limit)
    : OAuthFlowException(Describe(setting, limit))
{
    /// <summary>The limit's setting: <c>o8.login.max-pending</c> or <c>o8.login.max-pending-per-partition</c>.</summary>
    public string Setting { get; } = setting;

    /// <summary>The limit's value.</summary>
    public int Limit { get; } = limit;

    /// <summary>The refusal's text, shared by the exception and the <see cref="LoginFailed"/> reason.</summary>
    internal static string Describe(string setting, int limit) =>
        $"Too many logins are pending: {setting} ({limit}) is reached; try again once a login has ended.";
}
