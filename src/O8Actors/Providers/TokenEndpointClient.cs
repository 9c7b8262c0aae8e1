using Duende.IdentityModel.Client;

namespace O8Actors.Providers;

/// <summary>
/// Sends code-exchange and refresh requests with Duende.IdentityModel and turns every outcome into a
/// <see cref="TokenSet"/> or a <see cref="TokenExchangeException"/> whose message carries no secret.
/// </summary>
internal sealed class TokenEndpointClient
{
    private readonly GenericOAuthOptions _options;
    private readonly TimeProvider _time;

    /// <param name="options">Validated options; the client keeps the reference, so pass a private copy.</param>
    /// <param name="time">Clock for <c>expires_in</c>.</param>
    public TokenEndpointClient(GenericOAuthOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    public async Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(http);
        if (string.IsNullOrEmpty(context.Code))
            throw new ArgumentException("The authorization code is empty.", nameof(context));
        if (context.RedirectUri is null || !context.RedirectUri.IsAbsoluteUri)
            throw new ArgumentException("The code exchange needs the absolute redirect URI of the authorize request.", nameof(context));

        using var request = new AuthorizationCodeTokenRequest
        {
            Code = context.Code,
            // The same string that went into the authorize URL (RFC 6749 section 4.1.3).
            RedirectUri = context.RedirectUri.OriginalString,
            CodeVerifier = context.CodeVerifier,
        };
        Prepare(request);
        const string operation = "authorization code exchange";
        using var response = await SendAsync(() => http.RequestAuthorizationCodeTokenAsync(request, cancellationToken), operation, cancellationToken)
            .ConfigureAwait(false);
        return TokenResponseReader.Read(response, _options.Name, operation, _time, previousRefreshToken: null,
            secrets: [context.Code, context.CodeVerifier, _options.ClientSecret]);
    }

    public async Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(http);
        if (string.IsNullOrEmpty(context.RefreshToken))
            throw new ArgumentException("The refresh token is empty.", nameof(context));

        using var request = new RefreshTokenRequest
        {
            RefreshToken = context.RefreshToken,
            Scope = context.Scopes is { Count: > 0 } scopes ? string.Join(_options.ScopeSeparator, scopes) : null,
        };
        Prepare(request);
        const string operation = "token refresh";
        using var response = await SendAsync(() => http.RequestRefreshTokenAsync(request, cancellationToken), operation, cancellationToken)
            .ConfigureAwait(false);
        // Servers that do not rotate refresh tokens leave refresh_token out; the old one stays valid (RFC 6749 section 6).
        return TokenResponseReader.Read(response, _options.Name, operation, _time, previousRefreshToken: context.RefreshToken,
            secrets: [context.RefreshToken, _options.ClientSecret]);
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
        Prepare(request, _options.RevocationEndpoint!);
        TokenRevocationResponse response;
        try
        {
            response = await http.RevokeTokenAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TokenExchangeException($"The token revocation with provider '{_options.Name}' timed out.", innerException: ex);
        }

        if (!response.IsError) return;
        // Only the error code and the HTTP status: a description or body could echo the token back.
        var what = response.ErrorType == ResponseErrorType.Protocol
            ? $"the provider answered {response.Error}"
            : response.ErrorType == ResponseErrorType.Http
                ? $"the revocation endpoint answered HTTP {(int)response.HttpStatusCode}"
                : $"the request failed ({response.Exception?.GetType().Name ?? response.ErrorType.ToString()})";
        throw new TokenExchangeException($"The token revocation with provider '{_options.Name}' failed: {what}.", response.Error);
    }

    private void Prepare(ProtocolRequest request) => Prepare(request, _options.TokenEndpoint!);

    private void Prepare(ProtocolRequest request, Uri address)
    {
        request.Address = address.AbsoluteUri;
        Authenticate(request);
        foreach (var (name, value) in _options.TokenRequestHeaders)
        {
            // Replace rather than add: ProtocolRequest already sets Accept: application/json.
            request.Headers.Remove(name);
            if (!request.Headers.TryAddWithoutValidation(name, value))
                throw new InvalidOperationException($"The provider '{_options.Name}' has a token request header '{name}' that cannot be sent on a request.");
        }
    }

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
    private async Task<TokenResponse> SendAsync(Func<Task<TokenResponse>> send, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await send().ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TokenExchangeException(
                $"The {operation} with provider '{_options.Name}' timed out: the token endpoint did not answer in time.",
                innerException: ex);
        }
    }
}
