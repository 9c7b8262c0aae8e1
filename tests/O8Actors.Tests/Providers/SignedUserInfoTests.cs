using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using O8Actors.Providers;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// Signed UserInfo responses (<c>application/jwt</c>, OpenID Connect Core 1.0 section 5.3.2) against a real loopback
/// Kestrel serving the provider's key set and its UserInfo endpoint: verified with the key set, issuer and audience of
/// the provider's ID tokens before a claim is read; each forgery refused with the check it failed, never the response.
/// </summary>
public sealed class SignedUserInfoTests : IAsyncLifetime
{
    private const string Token = "SECRET-ACCESS-7d1f";
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private readonly HttpClient _http = new();
    private readonly TestIdTokens _keys = new();
    private readonly MovableTimeProvider _clock = new(Start);
    private RecordingServer _server = null!;
    private RsaSecurityKey _signing = null!;
    private string _answer = "";

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _signing = _keys.RsaKey("k1");
        _server.Handler = (context, request) => request.Path switch
        {
            "/jwks" => RecordingServer.Respond(context, 200, "application/json", _keys.Jwks()),
            "/userinfo" => RecordingServer.Respond(context, 200, "application/jwt; charset=utf-8", _answer),
            _ => RecordingServer.Respond(context, 404, "text/plain", "not found"),
        };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _keys.Dispose();
        await _server.DisposeAsync();
    }

    private string Issuer => _server.BaseUrl;

    private GenericOAuthStrategy Strategy(bool withKeys = true)
    {
        var options = Options(_server.Url("/token"));
        options.Issuer = Issuer;
        options.UserInfoEndpoint = _server.Url("/userinfo");
        if (withKeys) options.JwksUri = _server.Url("/jwks");
        return new GenericOAuthStrategy(options, _clock);
    }

    private Dictionary<string, object> Claims() => new()
    {
        ["iss"] = Issuer,
        ["aud"] = "client-1",
        ["sub"] = "user-42",
        ["name"] = "Ada",
        ["email"] = "ada@example.test",
        ["exp"] = _clock.Now.AddMinutes(10).ToUnixTimeSeconds(),
    };

    private string Sign(Action<Dictionary<string, object>>? change = null, SecurityKey? key = null, string? algorithm = null)
    {
        var claims = Claims();
        change?.Invoke(claims);
        return TestIdTokens.Mint(claims, key ?? _signing, algorithm);
    }

    private Task<JsonElement?> FetchAsync(bool withKeys = true) =>
        Strategy(withKeys).FetchUserInfoAsync(new UserInfoContext(Token, "Bearer"), _http, CancellationToken.None);

    private Task<JsonElement?> FetchWith(string answer)
    {
        _answer = answer;
        return FetchAsync();
    }

    private async Task Refused(string answer, string check)
    {
        var error = await Assert.ThrowsAsync<UserInfoException>(() => FetchWith(answer));
        Assert.Equal(UserInfoFailure.InvalidResponse, error.Failure);
        Assert.Contains($"({check})", error.Message, StringComparison.Ordinal);
        Assert.Contains("Its claims were not used", error.Message, StringComparison.Ordinal);
        foreach (var part in answer.Split('.').Where(p => p.Length > 0))
            Assert.DoesNotContain(part, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_response_signed_by_the_providers_key_is_verified_and_its_claims_read()
    {
        _answer = Sign();

        var claims = (await FetchAsync())!.Value;

        Assert.Equal("user-42", claims.GetProperty("sub").GetString());
        Assert.Equal("Ada", claims.GetProperty("name").GetString());
        Assert.Equal(Issuer, claims.GetProperty("iss").GetString());
        // The client says it reads both forms; the bearer token is sent as for a plain response.
        var request = _server.Requests.Single(r => r.Path == "/userinfo");
        Assert.Equal("application/json, application/jwt", request.Accept);
        Assert.Equal("Bearer " + Token, request.Authorization);
    }

    [Fact]
    public async Task A_response_without_exp_is_accepted_as_the_specification_allows() =>
        Assert.Equal("user-42", (await FetchWith(Sign(c => c.Remove("exp"))))!.Value.GetProperty("sub").GetString());

    [Fact]
    public Task A_response_signed_by_another_key_is_refused() => Refused(Sign(key: _keys.RsaKey("attacker", publish: false)), "signature");

    [Fact]
    public Task An_unsigned_response_is_refused() => Refused(TestIdTokens.Mint(Claims(), key: null), "algorithm");

    [Fact]
    public Task A_response_signed_with_the_client_secret_is_refused() =>
        Refused(Sign(key: new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(ClientSecret.PadRight(32, '!'))), algorithm: SecurityAlgorithms.HmacSha256), "algorithm");

    [Fact]
    public Task A_response_for_another_client_is_refused() => Refused(Sign(c => c["aud"] = "client-2"), "audience");

    [Fact]
    public Task A_response_without_an_audience_is_refused() => Refused(Sign(c => c.Remove("aud")), "audience");

    [Fact]
    public Task A_response_from_another_issuer_is_refused() => Refused(Sign(c => c["iss"] = "https://evil.example.test"), "issuer");

    [Fact]
    public Task An_expired_response_is_refused() => Refused(Sign(c => c["exp"] = _clock.Now.AddMinutes(-30).ToUnixTimeSeconds()), "expired");

    [Fact]
    public async Task An_encrypted_response_is_refused_it_cannot_be_read_here()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var encrypted = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = Claims(),
            SigningCredentials = new SigningCredentials(_signing, SecurityAlgorithms.RsaSha256),
            EncryptingCredentials = new EncryptingCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaOAEP, SecurityAlgorithms.Aes128CbcHmacSha256),
        });

        await Refused(encrypted, "algorithm");
    }

    [Fact]
    public async Task A_key_set_that_cannot_be_read_fails_the_call_and_uses_no_claim()
    {
        _answer = Sign();
        var options = Options(_server.Url("/token"));
        options.Issuer = Issuer;
        options.UserInfoEndpoint = _server.Url("/userinfo");
        options.JwksUri = _server.Url("/no-such-key-set");

        var error = await Assert.ThrowsAsync<UserInfoException>(() => new GenericOAuthStrategy(options, _clock)
            .FetchUserInfoAsync(new UserInfoContext(Token, "Bearer"), _http, CancellationToken.None));

        Assert.Equal(UserInfoFailure.Failed, error.Failure);
        Assert.Contains("key set could not be read", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_without_a_key_set_refuses_a_signed_response_and_does_not_ask_for_one()
    {
        _answer = Sign();

        var error = await Assert.ThrowsAsync<UserInfoException>(() => FetchAsync(withKeys: false));

        Assert.Equal(UserInfoFailure.InvalidResponse, error.Failure);
        Assert.Contains("JwksUri", error.Message, StringComparison.Ordinal);
        Assert.Equal("application/json", _server.Requests.Single(r => r.Path == "/userinfo").Accept);
    }
}
