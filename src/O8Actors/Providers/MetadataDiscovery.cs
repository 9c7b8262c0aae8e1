using System.Text.Json;
using Duende.IdentityModel.Client;
using O8Actors.Callback;

namespace O8Actors.Providers;

/// <summary>
/// Fetches provider metadata, read by Duende's <see cref="DiscoveryDocumentResponse"/>: OpenID Connect Discovery first,
/// then the RFC 8414 location, and checks the <c>issuer</c> against the configured one.
/// </summary>
internal static class MetadataDiscovery
{
    private const string OidcPath = ".well-known/openid-configuration";
    private const string OAuthPath = ".well-known/oauth-authorization-server";

    /// <summary>
    /// Where to look, in order. OpenID Discovery appends its path to the issuer; RFC 8414 section 3.1 inserts its
    /// well-known segment between host and issuer path, so the two differ for issuers with a path.
    /// </summary>
    public static IReadOnlyList<Uri> Candidates(string issuer)
    {
        var trimmed = issuer.TrimEnd('/');
        var uri = new Uri(trimmed);
        var root = uri.GetLeftPart(UriPartial.Authority);
        var path = uri.AbsolutePath.TrimEnd('/');
        var oidc = new Uri($"{trimmed}/{OidcPath}");
        var oauth = new Uri($"{root}/{OAuthPath}{path}");
        return oidc == oauth ? [oidc] : [oidc, oauth];
    }

    public static async Task<ProviderMetadata> DiscoverAsync(string provider, string issuer, HttpClient http, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var candidate in Candidates(issuer))
        {
            DiscoveryDocumentResponse document;
            try
            {
                document = await FetchAsync(http, issuer, candidate, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ProviderDiscoveryException(
                    $"Discovery for provider '{provider}' timed out: {candidate} did not answer in time.", ex);
            }

            if (!document.IsError)
                return Read(provider, issuer, candidate, document);
            if (document.ErrorType == ResponseErrorType.PolicyViolation)
            {
                // The document was found but is unsafe (for example an http endpoint off loopback): do not fall back.
                throw new ProviderDiscoveryException(
                    $"The metadata of provider '{provider}' at {candidate} was rejected: {ExternalText.Clean(document.Error, ExternalText.MaxTextLength)}.");
            }
            failures.Add(document.ErrorType == ResponseErrorType.Http
                ? $"{candidate} answered HTTP {(int)document.HttpStatusCode}"
                : $"{candidate}: {ExternalText.Clean(document.Error, ExternalText.MaxTextLength)}");
            if (Unavailable(document))
            {
                // The server failed, not the address: the next one (RFC 8414's, whose jwks_uri is optional) could resolve
                // an OpenID provider as plain OAuth, its logins sending no nonce and checking no ID token, until a restart
                // (a later refresh refuses a key set that appears). Failed now, the next login reads the metadata again.
                throw new ProviderDiscoveryException(
                    $"The metadata of provider '{provider}' could not be read: {failures[^1]}. Try again later.");
            }
        }
        throw new ProviderDiscoveryException(
            $"No usable metadata found for provider '{provider}' (issuer {issuer}): {string.Join("; ", failures)}.");
    }

    /// <summary>
    /// Whether the answer says the server is failing, busy or unreachable (5xx, 408, 429, no connection, a TLS failure, no
    /// answer within the client's timeout: the resilience pipeline's rejection, not a cancellation), rather than that no
    /// document is at this address (404, another 4xx, a page that is no JSON object), where the next is tried.
    /// </summary>
    private static bool Unavailable(DiscoveryDocumentResponse document) => document.ErrorType switch
    {
        ResponseErrorType.Http => (int)document.HttpStatusCode >= 500
            || document.HttpStatusCode is System.Net.HttpStatusCode.RequestTimeout or System.Net.HttpStatusCode.TooManyRequests,
        ResponseErrorType.Exception => document.Exception is HttpRequestException or IOException or TimeoutException
            or System.Security.Authentication.AuthenticationException or Polly.ExecutionRejectedException,
        _ => false,
    };

    /// <summary>
    /// The document alone. Duende's <c>GetDiscoveryDocumentAsync</c> also fetches the key set it names and fails the whole
    /// discovery when that fails: a key set answering 503 was reported as the metadata document answering 503, and the
    /// RFC 8414 document tried next (whose <c>jwks_uri</c> is optional) could resolve an OpenID provider as plain OAuth,
    /// without its ID tokens checked. The key set is the ID token validator's to fetch, when first needed (JwksCache).
    /// </summary>
    private static async Task<DiscoveryDocumentResponse> FetchAsync(HttpClient http, string issuer, Uri candidate, CancellationToken cancellationToken)
    {
        var policy = Policy(issuer, candidate);
        if (!DiscoveryEndpoint.IsSecureScheme(candidate, policy))
            return ProtocolResponse.FromException<DiscoveryDocumentResponse>(new InvalidOperationException("HTTPS required"),
                $"HTTPS is required for the metadata of a provider off loopback ({candidate}).");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, candidate);
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return await ProtocolResponse.FromHttpResponseAsync<DiscoveryDocumentResponse>(response,
                response.IsSuccessStatusCode ? policy : $"Error connecting to {candidate}: {response.ReasonPhrase}").ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // As Duende's call answers them, so the failure names the provider: no connection, a TLS failure, a body too
            // large, the client pipeline's timeout (each ends the lookup: Unavailable), and a 200 that is no JSON object
            // (an HTML page from a host that serves every path), whose policy check throws and the next address is tried.
            return ProtocolResponse.FromException<DiscoveryDocumentResponse>(e, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static DiscoveryPolicy Policy(string issuer, Uri candidate)
    {
        var policy = new DiscoveryPolicy
        {
            Authority = issuer.TrimEnd('/'),
            // The full URL is the address; naming its path here stops Duende from appending the OIDC path again.
            DiscoveryDocumentPath = candidate.AbsolutePath.TrimStart('/'),
            RequireHttps = true,
            AllowHttpOnLoopback = true,
            // The issuer is compared below with a clearer error; endpoints may live on other hosts (Google's token
            // endpoint is oauth2.googleapis.com), and the key set is fetched by the ID token validator when first needed
            // (not here: FetchAsync).
            ValidateIssuerName = false,
            ValidateEndpoints = false,
            RequireKeySet = false,
        };
        policy.LoopbackAddresses.Add("::1");
        return policy;
    }

    private static ProviderMetadata Read(string provider, string issuer, Uri source, DiscoveryDocumentResponse document)
    {
        var published = document.Issuer;
        if (string.IsNullOrEmpty(published))
            throw new ProviderDiscoveryException($"The metadata of provider '{provider}' at {source} has no issuer.");
        if (!SameIssuer(published, issuer))
        {
            throw new IssuerMismatchException(
                $"The metadata of provider '{provider}' at {source} names issuer '{ExternalText.Clean(published, ExternalText.MaxTextLength)}', but the provider is configured " +
                $"with issuer '{issuer}'. They must be identical (RFC 8414 section 3.3, OpenID Connect Discovery section 4.3); " +
                "a different issuer means the wrong server or a mix-up attack.");
        }

        // Duende's TryGetValue returns an undefined element, not null, for a missing member: ask the JSON itself.
        var methodsListed = document.Json is { ValueKind: JsonValueKind.Object } json &&
                            json.TryGetProperty("code_challenge_methods_supported", out var methods) &&
                            methods.ValueKind == JsonValueKind.Array;
        return new ProviderMetadata(
            Issuer: published,
            AuthorizationEndpoint: Endpoint(provider, source, "authorization_endpoint", document.AuthorizeEndpoint),
            TokenEndpoint: Endpoint(provider, source, "token_endpoint", document.TokenEndpoint),
            // An absent list says nothing, and sending PKCE to a server that ignores it is harmless (RFC 7636 section 5).
            SupportsS256: !methodsListed || document.CodeChallengeMethodsSupported.Contains("S256", StringComparer.Ordinal),
            IssuerParameterSupported: document.TryGetBoolean("authorization_response_iss_parameter_supported") == true,
            TokenEndpointAuthMethods: document.TokenEndpointAuthenticationMethodsSupported.ToList(),
            Source: source,
            JwksUri: string.IsNullOrEmpty(document.JwksUri) ? null : Endpoint(provider, source, "jwks_uri", document.JwksUri),
            RevocationEndpoint: string.IsNullOrEmpty(document.RevocationEndpoint) ? null : Endpoint(provider, source, "revocation_endpoint", document.RevocationEndpoint),
            DeviceAuthorizationEndpoint: string.IsNullOrEmpty(document.DeviceAuthorizationEndpoint)
                ? null
                : Endpoint(provider, source, "device_authorization_endpoint", document.DeviceAuthorizationEndpoint),
            PushedAuthorizationRequestEndpoint: string.IsNullOrEmpty(document.PushedAuthorizationRequestEndpoint)
                ? null
                : Endpoint(provider, source, "pushed_authorization_request_endpoint", document.PushedAuthorizationRequestEndpoint),
            RequirePushedAuthorizationRequests: document.TryGetBoolean("require_pushed_authorization_requests") == true)
        {
            EndSessionEndpoint = string.IsNullOrEmpty(document.EndSessionEndpoint)
                ? null
                : Endpoint(provider, source, "end_session_endpoint", document.EndSessionEndpoint),
            UserInfoEndpoint = string.IsNullOrEmpty(document.UserInfoEndpoint)
                ? null
                : Endpoint(provider, source, "userinfo_endpoint", document.UserInfoEndpoint),
            DpopSigningAlgorithms = document.Json is { ValueKind: JsonValueKind.Object } j && j.TryGetProperty("dpop_signing_alg_values_supported", out var algs)
                && algs.ValueKind == JsonValueKind.Array
                // A non-string entry names no algorithm (it threw InvalidOperationException out of discovery, for every provider).
                ? algs.EnumerateArray().Select(a => a.ValueKind == JsonValueKind.String ? a.GetString()! : "").ToList()
                : null,
        };
    }

    /// <summary>
    /// Identical, except that one trailing slash is tolerated (a common configuration slip). Only one: trimming every
    /// trailing slash let <c>https://as.example/t//</c> pass for <c>https://as.example/t</c>, another issuer by RFC 8414.
    /// </summary>
    internal static bool SameIssuer(string published, string configured) =>
        string.Equals(published, configured, StringComparison.Ordinal) ||
        string.Equals(published, configured + "/", StringComparison.Ordinal) ||
        string.Equals(published + "/", configured, StringComparison.Ordinal);

    private static Uri Endpoint(string provider, Uri source, string field, string? value)
    {
        if (string.IsNullOrEmpty(value) || !Uri.TryCreate(value, UriKind.Absolute, out var endpoint))
            throw new ProviderDiscoveryException($"The metadata of provider '{provider}' at {source} has no valid {field}.");
        try
        {
            EndpointRules.RequireSecureAbsolute(endpoint, $"The {field} of provider '{provider}'", field);
        }
        catch (ArgumentException ex)
        {
            throw new ProviderDiscoveryException($"The metadata of provider '{provider}' at {source} is unsafe: {ex.Message}", ex);
        }
        return endpoint;
    }
}
