using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>A hand-rolled OAuth client for driving the sandbox one raw request at a time.</summary>
public sealed class RawOAuthClient(SandboxAuthorizationServer server, HttpClient? http = null) : IDisposable
{
    public const string RedirectUri = "http://127.0.0.1:50123/callback";

    private readonly HttpClient _http = http ?? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });

    public HttpClient Http => _http;

    public Uri AuthorizeUrl(string clientId, string state = "st-1", Pkce? pkce = null, string redirectUri = RedirectUri,
        string scope = "openid profile", IDictionary<string, string?>? extra = null, string? method = "S256", bool withPkce = true)
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = scope,
            ["state"] = state,
        };
        if (withPkce)
        {
            query["code_challenge"] = (pkce ?? Pkce.Create()).Challenge;
            if (method is not null)
            {
                query["code_challenge_method"] = method;
            }
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                query.Remove(key);
            }
            else
            {
                query[key] = value;
            }
        }

        return new Uri(QueryHelpers.AddQueryString(server.AuthorizationEndpoint.AbsoluteUri, query));
    }

    /// <summary>GETs the authorize URL and returns the response (no redirects followed).</summary>
    public Task<HttpResponseMessage> AuthorizeAsync(Uri url) => _http.GetAsync(url);

    /// <summary>GETs the authorize URL, asserts a redirect and returns its query.</summary>
    public async Task<Dictionary<string, string>> AuthorizeRedirectAsync(Uri url)
    {
        using var response = await AuthorizeAsync(url);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(RedirectUri, location.AbsoluteUri, StringComparison.Ordinal);
        return QueryHelpers.ParseQuery(location.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());
    }

    /// <summary>Runs authorize with PKCE and returns the code.</summary>
    public async Task<string> GetCodeAsync(string clientId, Pkce pkce, string scope = "openid profile", IDictionary<string, string?>? extra = null)
    {
        var query = await AuthorizeRedirectAsync(AuthorizeUrl(clientId, pkce: pkce, scope: scope, extra: extra));
        return query["code"];
    }

    /// <summary>POSTs a token request; <paramref name="basic"/> adds HTTP Basic credentials.</summary>
    public async Task<TokenReply> TokenAsync(IDictionary<string, string> form, (string Id, string Secret)? basic = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        if (basic is { } credentials)
        {
            var raw = $"{Uri.EscapeDataString(credentials.Id)}:{Uri.EscapeDataString(credentials.Secret)}";
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(raw)));
        }

        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new TokenReply(response.StatusCode, body, response.Headers.WwwAuthenticate.ToString(), response.Headers.CacheControl?.NoStore == true);
    }

    public Task<TokenReply> ExchangeAsync(string clientId, string code, Pkce pkce, string redirectUri = RedirectUri) =>
        TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = clientId,
            ["code"] = code,
            ["redirect_uri"] = redirectUri,
            ["code_verifier"] = pkce.Verifier,
        });

    public Task<TokenReply> RefreshAsync(string clientId, string refreshToken) =>
        TokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = clientId,
            ["refresh_token"] = refreshToken,
        });

    /// <summary>Asks the device authorization endpoint (RFC 8628) for a code, as a public client: the code and the interval.</summary>
    public async Task<(string DeviceCode, TimeSpan Interval)> DeviceAuthorizationAsync(string clientId, string loginHint, string scope = "openid")
    {
        using var response = await _http.PostAsync(server.DeviceAuthorizationEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = clientId, ["scope"] = scope, ["login_hint"] = loginHint,
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (json.RootElement.GetProperty("device_code").GetString()!, TimeSpan.FromSeconds(json.RootElement.GetProperty("interval").GetInt64()));
    }

    /// <summary>Polls the token endpoint with a device code, as a public client.</summary>
    public Task<TokenReply> PollDeviceAsync(string clientId, string deviceCode) => TokenAsync(new Dictionary<string, string>
    {
        ["grant_type"] = "urn:ietf:params:oauth:grant-type:device_code", ["client_id"] = clientId, ["device_code"] = deviceCode,
    });

    /// <summary>Asks /introspect (as a public client) whether the token is active.</summary>
    public async Task<bool> IntrospectActiveAsync(string clientId, string token)
    {
        using var response = await _http.PostAsync(server.IntrospectionEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = clientId,
            ["token"] = token,
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("active").GetBoolean();
    }

    /// <summary>Revokes a token at /revoke (RFC 7009, as a public client); true when the server answered 200.</summary>
    public async Task<bool> RevokeAsync(string clientId, string token)
    {
        using var response = await _http.PostAsync(server.RevocationEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = clientId,
            ["token"] = token,
        }));
        return response.StatusCode == HttpStatusCode.OK;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>A token endpoint answer.</summary>
public sealed record TokenReply(HttpStatusCode Status, string Body, string WwwAuthenticate, bool NoStore)
{
    private JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string? Error => Json.TryGetProperty("error", out var e) ? e.GetString() : null;
    public string? AccessToken => Json.TryGetProperty("access_token", out var e) ? e.GetString() : null;
    public string? RefreshToken => Json.TryGetProperty("refresh_token", out var e) ? e.GetString() : null;
    public string? IdToken => Json.TryGetProperty("id_token", out var e) ? e.GetString() : null;
    public string? Get(string name) => Json.TryGetProperty(name, out var e) ? e.ToString() : null;

    public override string ToString() => $"TokenReply {{ Status = {Status}, Error = {Error} }}";
}
