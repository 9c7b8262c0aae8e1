using Duende.IdentityModel.Client;
using O8Actors.Dpop;

namespace O8Actors.Providers;

/// <summary>
/// Sends code-exchange and refresh requests with Duende.IdentityModel and turns every outcome into a
/// <see cref="TokenSet"/> or a <see cref="TokenExchangeException"/> whose message carries no secret.
/// </summary>
internal sealed class TokenEndpointClient
{
    private readonly GenericOAuthOptions _options;
    private readonly TimeProvider _time;
    // The token endpoint's latest DPoP nonce (RFC 9449 section 8), shared by this provider's logins and refreshes; the
    // strategy hands them to the client that takes over when discovery reads the same token endpoint again.
    private readonly DpopNonces _dpopNonces;
    // private_key_jwt: signs each request's client assertion; null for the other methods.
    private readonly ClientAssertions.Signer? _assertions;

    /// <param name="options">Validated options; the client keeps the reference, so pass a private copy.</param>
    /// <param name="time">Clock for <c>expires_in</c> and client assertions.</param>
    /// <param name="dpopNonces">The token endpoint's DPoP nonces: new ones, or those a client of the same endpoint was given.</param>
    public TokenEndpointClient(GenericOAuthOptions options, TimeProvider time, DpopNonces dpopNonces)
    {
        _options = options;
        _time = time;
        _dpopNonces = dpopNonces;
        if (options.ClientAuthentication == ClientAuthentication.PrivateKeyJwt)
            _assertions = options.ClientSigningKey is { } key
                ? ClientAssertions.For(key, options.ClientSigningKeyId)
                : ClientAssertions.For(options.ClientCertificate!, options.ClientSigningKeyId);
    }

    // Not async itself, nor are the refresh and the device poll: the one async layer of a token request is SendAsync,
    // which also reads the answer (a login's exchange runs through as few state machines as the protocol allows).
    public Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(http);
        if (string.IsNullOrEmpty(context.Code))
            throw new ArgumentException("The authorization code is empty.", nameof(context));
        if (context.RedirectUri is null || !context.RedirectUri.IsAbsoluteUri)
            throw new ArgumentException("The code exchange needs the absolute redirect URI of the authorize request.", nameof(context));

        const string operation = "authorization code exchange";
        return SendAsync(() =>
        {
            var request = new AuthorizationCodeTokenRequest
            {
                Code = context.Code,
                // The same string that went into the authorize URL (RFC 6749 section 4.1.3).
                RedirectUri = context.RedirectUri.OriginalString,
                CodeVerifier = context.CodeVerifier,
            };
            AddResource(request);
            Prepare(request, context.DpopKey, "code_exchange");
            return request;
        }, request => http.RequestAuthorizationCodeTokenAsync(request, cancellationToken), context.DpopKey, operation,
            response => Bound(TokenResponseReader.Read(response, _options.Name, operation, _time, previousRefreshToken: null,
                secrets: [context.Code, context.CodeVerifier, _options.ClientSecret], _options.ScopesFor(context.Scopes)),
                context.DpopKey, operation, login: true),
            cancellationToken);
    }

    public Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(http);
        if (string.IsNullOrEmpty(context.RefreshToken))
            throw new ArgumentException("The refresh token is empty.", nameof(context));
        const string operation = "token refresh";
        return SendAsync(() =>
        {
            var request = new RefreshTokenRequest { RefreshToken = context.RefreshToken, Scope = AskedScope(context.Scopes) };
            // Each refresh asks for the same audience again (RFC 8707 section 2.2): without it a server may issue the
            // renewed token for every resource of the grant, or for none.
            AddResource(request);
            Prepare(request, context.DpopKey, "refresh");
            return request;
        }, request => http.RequestRefreshTokenAsync(request, cancellationToken), context.DpopKey, operation,
            // Servers that do not rotate refresh tokens leave refresh_token out; the old one stays valid (RFC 6749 section 6).
            // A refresh that names no scope asks for the grant's own (section 6), which is not known here: left unknown then.
            response => Bound(TokenResponseReader.Read(response, _options.Name, operation, _time, previousRefreshToken: context.RefreshToken,
                secrets: [context.RefreshToken, _options.ClientSecret], context.Scopes), context.DpopKey, operation, login: false),
            cancellationToken);
    }

    /// <summary>
    /// Revokes one token (RFC 7009 section 2.1) with the same client authentication as the token requests. The server
    /// answers 200 for a token it does not know (section 2.2), so only an error response fails.
    /// </summary>
    public async Task RevokeAsync(RevocationContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(http);
        using var request = new TokenRevocationRequest { Token = context.Token, TokenTypeHint = context.TokenTypeHint };
        Prepare(request, _options.RevocationEndpoint!, "revocation");
        var response = await WithinTimeoutAsync(http.RevokeTokenAsync(request, cancellationToken),
            $"The token revocation with provider '{_options.Name}' timed out.", cancellationToken).ConfigureAwait(false);
        using var _ = response.HttpResponse;
        // A 200 is the whole answer (section 2.2: "the content of the response body is ignored by the client"), whatever
        // its body: a plain "OK" or an HTML page fails Duende's JSON parse, and is a revocation all the same. Only an
        // OAuth error in a JSON body (as GitHub answers with 200) is a refusal.
        if (!response.IsError || (response.HttpResponse?.IsSuccessStatusCode == true && ErrorCode(response) is null)) return;
        // A token the server calls invalid is not live (section 2.2: an invalid token is no error, yet Google answers 400
        // invalid_token for one expired or revoked with its grant): nothing is left to revoke, which is what was asked.
        if (ErrorCode(response) == "invalid_token") return;
        // A description or body could echo the token back: only what Failed keeps, with the token masked in the code.
        var (error, what) = Failed(response, "revocation endpoint", context.Token);
        throw new TokenExchangeException($"The token revocation with provider '{_options.Name}' failed: {what}.", error);
    }

    /// <summary>Asks the device authorization endpoint for a device code (RFC 8628 section 3.1), authenticated as a token request.</summary>
    public async Task<DeviceAuthorization> RequestDeviceAuthorizationAsync(DeviceAuthorizationContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(http);
        // The browser login's rule for a login's ExtraParameters, before anything is sent: they mean the same whichever
        // way the user signs in (a name O8Actors or the client's authentication sets is refused, saying which).
        AuthorizeUrlBuilder.RejectReserved(context.ExtraParameters, "ExtraParameters");
        if (_options.Resource is not null && AuthorizeUrlBuilder.Names(context.ExtraParameters, "resource"))
            throw new ArgumentException(AuthorizeUrlBuilder.ResourceConflict, nameof(context));
        using var request = new DeviceAuthorizationRequest { Scope = AskedScope(_options.ScopesFor(context.Scopes)) };
        foreach (var (name, value) in context.ExtraParameters) request.Parameters.AddOptional(name, value);
        AddResource(request);
        Prepare(request, _options.DeviceAuthorizationEndpoint!, "device_authorization");
        var response = await WithinTimeoutAsync(http.RequestDeviceAuthorizationAsync(request, cancellationToken),
            $"The device authorization request to provider '{_options.Name}' timed out.", cancellationToken).ConfigureAwait(false);
        using var _ = response.HttpResponse;
        if (response.IsError)
        {
            var (error, what) = Failed(response, "device authorization endpoint");
            throw new TokenExchangeException($"The device authorization request to provider '{_options.Name}' failed: {what}.", error);
        }

        if (string.IsNullOrEmpty(response.DeviceCode) || string.IsNullOrEmpty(response.UserCode))
            throw new TokenExchangeException($"The device authorization response of provider '{_options.Name}' lacks device_code or user_code.");
        // The user signs in at this page, so it gets the rule of every endpoint: https, plain http only on loopback (a
        // sandbox). Its host need not be the provider's (Google and Microsoft show other hosts), and nothing is sent to it.
        // Google names it verification_url (its device flow predates the RFC's name): the same page, taken under either.
        var verificationText = response.VerificationUri ?? response.TryGet("verification_url");
        if (!Uri.TryCreate(verificationText, UriKind.Absolute, out var verification) || !ShowableToUser(verification))
            throw new TokenExchangeException($"The device authorization response of provider '{_options.Name}' has no usable verification_uri " +
                "(it must be an https URL; plain http only on a loopback host).");
        // The complete URI is optional (RFC 8628 section 3.2): one that breaks the rule is left out, the user types the code.
        Uri? complete = Uri.TryCreate(response.VerificationUriComplete, UriKind.Absolute, out var c) && ShowableToUser(c) ? c : null;
        // expires_in is required (RFC 8628 section 3.2); a provider that leaves it out gets the default lifetime, so a
        // device login still ends on its own. ShowableDeviceCode.Checked applies it again for a login, but this answer is
        // also what the public strategies' RequestDeviceAuthorizationAsync return to a direct caller, which nothing checks.
        var expiresIn = response.ExpiresIn is { } seconds && seconds > 0 ? TimeSpan.FromSeconds(seconds) : DeviceAuthorization.DefaultLifetime;
        var interval = response.Interval > 0 ? TimeSpan.FromSeconds(response.Interval) : DeviceAuthorization.DefaultInterval;
        return new DeviceAuthorization(response.DeviceCode, response.UserCode, verification, complete, expiresIn, interval);
    }

    private static bool ShowableToUser(Uri uri) =>
        uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && EndpointRules.IsLoopback(uri));

    /// <summary>
    /// Polls the token endpoint once with the device code (RFC 8628 section 3.4). The four answers of section 3.5 are
    /// returned as a status; any other error throws a <see cref="TokenExchangeException"/> without secrets.
    /// </summary>
    public Task<DeviceTokenPoll> PollDeviceTokenAsync(DeviceTokenContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(http);
        if (string.IsNullOrEmpty(context.DeviceCode))
            throw new ArgumentException("The device code is empty.", nameof(context));
        const string operation = "device token request";
        return SendAsync(() =>
        {
            var request = new DeviceTokenRequest { DeviceCode = context.DeviceCode };
            AddResource(request);
            Prepare(request, context.DpopKey, "device_poll");
            return request;
        }, request => http.RequestDeviceTokenAsync(request, cancellationToken), context.DpopKey, operation,
            response => ReadPoll(response, context, operation), cancellationToken);
    }

    private DeviceTokenPoll ReadPoll(TokenResponse response, DeviceTokenContext context, string operation)
    {
        // Whatever the HTTP status, the four answers of section 3.5 are not errors: some providers answer them with 200,
        // Google with 428 (pending) and 403 (slow down, denied), where Duende names the error by the status's phrase.
        if (response.IsError)
        {
            var code = ErrorCode(response);
            var status = code switch
            {
                "authorization_pending" => DevicePollStatus.Pending,
                "slow_down" => DevicePollStatus.SlowDown,
                // Microsoft's name for the user's refusal.
                "access_denied" or "authorization_declined" => DevicePollStatus.Denied,
                "expired_token" => DevicePollStatus.Expired,
                _ => (DevicePollStatus?)null,
            };
            if (status is { } known)
                return new DeviceTokenPoll(known, null, code, 
                    known == DevicePollStatus.Denied && !string.IsNullOrEmpty(response.ErrorDescription)
                        ? TokenResponseReader.Clean(response.ErrorDescription, [context.DeviceCode, _options.ClientSecret])
                        : null);
        }

        return DeviceTokenPoll.Issued(Bound(TokenResponseReader.Read(response, _options.Name, operation, _time, previousRefreshToken: null,
            secrets: [context.DeviceCode, _options.ClientSecret], _options.ScopesFor(context.Scopes)), context.DpopKey, operation, login: true));
    }

    /// <summary>
    /// Scopes as a request's <c>scope</c> parameter names them, in the provider's separator (null: none). A token answer
    /// that leaves <c>scope</c> out was granted them (RFC 6749 section 5.1): the reader takes the same list; a login's by the authorize URL's rule (<see cref="GenericOAuthOptions.ScopesFor"/>).
    /// </summary>
    private string? AskedScope(IReadOnlyList<string>? scopes) => scopes is { Count: > 0 } ? string.Join(_options.ScopeSeparator, scopes) : null;

    /// <summary>
    /// Pushes the parameters of <paramref name="plainAuthorizeUrl"/> (the URL a non-pushed login would open) to the pushed
    /// authorization request endpoint (RFC 9126 section 2), authenticated as a token request; returns the <c>request_uri</c>.
    /// </summary>
    public async Task<string> PushAuthorizationAsync(Uri plainAuthorizeUrl, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plainAuthorizeUrl);
        ArgumentNullException.ThrowIfNull(http);
        using var request = new PushedAuthorizationRequest();
        foreach (var (name, values) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(plainAuthorizeUrl.Query))
        {
            // client_id is the client's authentication's to send (in the Basic header or the body), exactly once.
            if (name == "client_id") continue;
            foreach (var value in values) request.Parameters.Add(name, value ?? "");
        }
        Prepare(request, _options.PushedAuthorizationRequestEndpoint!, "pushed_authorization");
        var response = await WithinTimeoutAsync(http.PushAuthorizationAsync(request, cancellationToken),
            $"The pushed authorization request to provider '{_options.Name}' timed out.", cancellationToken).ConfigureAwait(false);
        using var _ = response.HttpResponse;
        if (response.IsError)
        {
            // The description may quote the parameters (state, challenge): only what Failed keeps.
            var (error, what) = Failed(response, "pushed authorization request endpoint");
            throw new TokenExchangeException(
                $"The pushed authorization request (RFC 9126) to provider '{_options.Name}' failed: {what}. The login did not fall back to a plain authorize URL.",
                error);
        }

        if (string.IsNullOrEmpty(response.RequestUri))
            throw new TokenExchangeException($"The pushed authorization response of provider '{_options.Name}' has no request_uri.");
        return response.RequestUri;
    }

    /// <summary>
    /// A response's <c>error</c> as it may go into a message, a log line or <see cref="TokenExchangeException.ProviderError"/>:
    /// cleaned as the token endpoint's errors are (no control characters, so no forged log line; capped; the client
    /// secret and <paramref name="secret"/> masked, should a server echo them).
    /// </summary>
    private string? ProviderText(string? text, string? secret = null) =>
        string.IsNullOrEmpty(text) ? text : TokenResponseReader.Clean(text, [secret, _options.ClientSecret]);

    /// <summary>
    /// What a failed response may tell a caller: its <c>error</c> code (as <see cref="ProviderText"/> cleans it) and a
    /// phrase naming the failure — that code, the <paramref name="endpoint"/>'s HTTP status, or the transport error's
    /// type. Never the description or the body: they are the provider's text and may quote what was sent.
    /// </summary>
    private (string? Error, string What) Failed(ProtocolResponse response, string endpoint, string? secret = null)
    {
        var code = ProviderText(ErrorCode(response), secret);
        var what = response.ErrorType switch
        {
            ResponseErrorType.Protocol => $"the provider answered {code}",
            ResponseErrorType.Http when code is not null => $"the provider answered {code} (HTTP {(int)response.HttpStatusCode})",
            ResponseErrorType.Http => $"the {endpoint} answered HTTP {(int)response.HttpStatusCode}",
            _ => $"the request failed ({response.Exception?.GetType().Name ?? response.ErrorType.ToString()})",
        };
        return (code ?? ProviderText(response.Error, secret), what);
    }

    /// <summary>
    /// The OAuth <c>error</c> code of an error response (RFC 6749 section 5.2), read from its body (JSON, or a form as the
    /// token endpoint's are read) whatever the HTTP status: Duende reads it only from a 400 (or a 200), and names any
    /// other failure by its status's reason phrase, so a 401 <c>invalid_client</c> would pass for an error called
    /// "Unauthorized". Null when the body has none.
    /// </summary>
    private static string? ErrorCode(ProtocolResponse response) =>
        TokenResponseReader.TokenFields.From(response)?.Get("error")
        ?? (response.ErrorType == ResponseErrorType.Protocol ? response.Error : null);

    /// <summary>
    /// Awaits <paramref name="send"/>; a cancellation the caller did not ask for is the HttpClient timeout (Duende lets
    /// cancellation through), which becomes a <see cref="TokenExchangeException"/> saying <paramref name="timedOut"/>.
    /// </summary>
    private static async Task<T> WithinTimeoutAsync<T>(Task<T> send, string timedOut, CancellationToken cancellationToken)
    {
        try
        {
            return await send.ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TokenExchangeException(timedOut, innerException: ex);
        }
    }

    /// <summary>
    /// The provider's resource indicator (RFC 8707), when it has one, on a token or device authorization request (a pushed
    /// request carries it already, as the authorize URL's parameter).
    /// </summary>
    private void AddResource(ProtocolRequest request)
    {
        if (_options.Resource is { } resource) request.Parameters.AddRequired("resource", resource.OriginalString);
    }

    private void Prepare(ProtocolRequest request, DpopKey? dpopKey, string metricOperation)
    {
        Prepare(request, _options.TokenEndpoint!, metricOperation);
        if (dpopKey is not null)
            request.DPoPProofToken = DpopProof.Create(dpopKey, HttpMethod.Post, _options.TokenEndpoint!, _time.GetUtcNow(), _dpopNonces.For(_options.TokenEndpoint!));
    }

    /// <summary>
    /// Tokens requested with a proof must come back bound (<c>token_type=DPoP</c>, RFC 9449 section 5): a server that
    /// ignored the proof hands out a bearer token, which the app would then use believing it bound. Bound tokens keep
    /// their key. A login's refused tokens go with the failure, to be revoked (<paramref name="login"/>); a refresh's
    /// not: its refresh token may be the account's own (a server that does not rotate), and revoking the new access
    /// token may end the grant (RFC 7009 section 2.1), signing the user out over the server's misconfiguration.
    /// </summary>
    private TokenSet Bound(TokenSet tokens, DpopKey? dpopKey, string operation, bool login)
    {
        if (dpopKey is null) return tokens;
        // The app turned DPoP off: a refresh still carries the key its stored tokens were bound with (the server may want
        // the proof for a refresh token it bound), and a bearer answer is what it asked for, taken unbound. Refused, every
        // renewal failed, told to do what was done, and a non-rotating server's fresh access token was thrown away.
        if (!_options.UseDpop && !string.Equals(tokens.TokenType, "DPoP", StringComparison.OrdinalIgnoreCase)) return tokens;
        if (!string.Equals(tokens.TokenType, "DPoP", StringComparison.OrdinalIgnoreCase))
            throw new TokenExchangeException(
                $"The {operation} with provider '{_options.Name}' returned token_type '{ProviderText(tokens.TokenType)}', not DPoP: the provider did not bind " +
                "the tokens to the key. Enable DPoP for this client at the provider, or turn UseDpop off.")
            {
                Issued = login ? tokens : null,
            };
        return tokens with { DpopKey = dpopKey };
    }

    // metricOperation: the request's operation tag on o8.token_exchange.duration (TokenRequestMetricsHandler).
    private void Prepare(ProtocolRequest request, Uri address, string metricOperation)
    {
        request.Address = address.AbsoluteUri;
        request.Options.Set(TokenRequestMetricsHandler.Operation, metricOperation);
        Authenticate(request);
        foreach (var (name, value) in _options.TokenRequestHeaders)
        {
            // Replace rather than add: ProtocolRequest already sets Accept: application/json.
            request.Headers.Remove(name);
            if (!request.Headers.TryAddWithoutValidation(name, value))
                throw new InvalidOperationException($"The provider '{_options.Name}' has a token request header '{name}' that cannot be sent on a request.");
        }
    }

    /// <summary>
    /// A client assertion's audience for a request to <paramref name="address"/>: the app's choice, else the server's
    /// issuer identifier (the value RFC 7523bis asks for: one assertion cannot be replayed at another server), the token
    /// endpoint for a provider that takes no other (Entra ID) or has no issuer.
    /// </summary>
    private string AssertionAudience(string address) =>
        (_options.ClientAssertionAudience ?? (_options.AssertionAudienceIsTokenEndpoint ? ClientAssertionAudience.TokenEndpoint : ClientAssertionAudience.Issuer)) switch
        {
            ClientAssertionAudience.EndpointCalled => address,
            ClientAssertionAudience.Issuer when !string.IsNullOrEmpty(_options.Issuer) => _options.Issuer,
            _ => _options.TokenEndpoint!.AbsoluteUri,
        };

    private void Authenticate(ProtocolRequest request)
    {
        request.ClientId = _options.ClientId;
        switch (_options.ClientAuthentication)
        {
            case ClientAuthentication.Basic:
                request.ClientSecret = _options.ClientSecret;
                request.ClientCredentialStyle = ClientCredentialStyle.AuthorizationHeader;
                break;
            case ClientAuthentication.Post:
                request.ClientSecret = _options.ClientSecret;
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
            case ClientAuthentication.PrivateKeyJwt:
                // A new assertion per request, for the audience the provider takes (ClientAssertionAudience).
                request.ClientSecret = null;
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                request.ClientAssertion = new ClientAssertion
                {
                    Type = ClientAssertions.JwtBearerType,
                    Value = _assertions!.Create(_options.ClientId, AssertionAudience(request.Address!), _time.GetUtcNow()),
                };
                break;
            default:
                // A public client sends only client_id in the body; a configured secret is deliberately not sent.
                request.ClientSecret = null;
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
        }
    }

    /// <summary>
    /// Duende turns transport errors into error responses but lets cancellation through; a cancellation the caller
    /// did not ask for is the HttpClient timeout, which becomes a clear exchange failure.
    /// </summary>
    private async Task<TResult> SendAsync<TRequest, TResult>(Func<TRequest> build, Func<TRequest, Task<TokenResponse>> send, DpopKey? dpopKey,
        string operation, Func<TokenResponse, TResult> read, CancellationToken cancellationToken)
        where TRequest : ProtocolRequest
        where TResult : class
    {
        // A provider that binds tokens gets no token request without a key (a code, a refresh token, a device code): it may
        // answer with bearer tokens (or refuse a bound refresh token), and the account would go on with tokens bound to nothing.
        if (_options.UseDpop && dpopKey is null)
            throw new TokenExchangeException(
                $"The provider '{_options.Name}' binds tokens with DPoP (UseDpop), but no DPoP key came with the {operation} (tokens stored " +
                "before DPoP was turned on, or by a token store that drops TokenSet.DpopKey; a login begun before the provider was registered " +
                "again with DPoP on): it was not sent unbound. Sign in again.")
            {
                NoDpopKey = true,
                NoEndpointAnswer = true,
            };

        try
        {
            using (var request = build())
            {
                using var response = await send(request).ConfigureAwait(false);
                if (dpopKey is not null) _dpopNonces.Remember(_options.TokenEndpoint!, response.DPoPNonce);
                // The server wants a nonce (RFC 9449 section 8): once more, below, with the one it just gave, in a new proof.
                if (dpopKey is null || !response.IsError || response.Error != "use_dpop_nonce" || string.IsNullOrEmpty(response.DPoPNonce))
                    return read(response);
            }

            using var retry = build();
            using var second = await send(retry).ConfigureAwait(false);
            _dpopNonces.Remember(_options.TokenEndpoint!, second.DPoPNonce);
            return read(second);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TokenExchangeException(
                $"The {operation} with provider '{_options.Name}' timed out: the token endpoint did not answer in time.",
                innerException: ex);
        }
    }
}
