using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Identity.Client;

namespace O8Actors.TokenBenchmarks;

/// <summary>
/// Side by side with MSAL.NET: <c>AcquireTokenSilent</c> on a primed cache against O8Actors' <c>GetAccessTokenAsync</c>
/// for a cached, valid token, fully offline. MSAL's cache is primed through its serialization hooks (a cache in MSAL's
/// own JSON format, written here) and instance discovery is off, so no call needs the network.
/// </summary>
[MemoryDiagnoser]
public class MsalSilentBenchmark
{
    private const string ClientId = "00000000-0000-0000-0000-0000000000b1";
    private const string TenantId = "00000000-0000-0000-0000-0000000000a7";
    private const string ObjectId = "00000000-0000-0000-0000-0000000000c3";
    private static readonly string[] Scopes = ["user.read"];
    private static readonly OAuthAccount Account = new("bench", "default");
    private IPublicClientApplication _msal = null!;
    private IAccount _msalAccount = null!;
    private OAuthLogins _logins = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var cache = PrimedCache();
        _msal = PublicClientApplicationBuilder.Create(ClientId)
            .WithAuthority($"https://login.microsoftonline.com/{TenantId}")
            // No instance discovery (a network call to login.microsoftonline.com): the authority is taken as given.
            .WithInstanceDiscovery(false)
            .Build();
        // Deserialized once (as an app's cache helper does on first access), not on every call.
        var loaded = false;
        _msal.UserTokenCache.SetBeforeAccess(args =>
        {
            if (loaded) return;
            args.TokenCache.DeserializeMsalV3(cache);
            loaded = true;
        });
        _msalAccount = (await _msal.GetAccountsAsync()).Single();
        // A call that would need the network throws here (this machine reaches no Microsoft endpoint).
        var first = await _msal.AcquireTokenSilent(Scopes, _msalAccount).ExecuteAsync();
        if (first.AuthenticationResultMetadata.TokenSource != TokenSource.Cache)
            throw new InvalidOperationException($"MSAL did not answer from its cache: {first.AuthenticationResultMetadata.TokenSource}.");

        var store = new InMemoryTokenStore();
        await store.SaveAsync(Account, new TokenSet("access", "Bearer", DateTimeOffset.UtcNow.AddDays(1), "refresh"), 0);
        _logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Options.Listener.Scheme = "http";
            setup.Options.Listener.Port = 0;
            setup.TokenStore = store;
            setup.SystemName = "o8-msal-bench";
        });
        await _logins.GetAccessTokenAsync(Account);
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _logins.DisposeAsync();

    /// <summary>O8Actors: the account's fresh token from what its actor published.</summary>
    [Benchmark(Baseline = true)]
    public Task<AccessToken> O8ActorsGetAccessToken() => _logins.GetAccessTokenAsync(Account);

    /// <summary>MSAL.NET 4.92: <c>AcquireTokenSilent</c> for an account whose access token is in its cache and valid.</summary>
    [Benchmark]
    public Task<AuthenticationResult> MsalAcquireTokenSilent() => _msal.AcquireTokenSilent(Scopes, _msalAccount).ExecuteAsync();

    /// <summary>An MSAL v3 cache (the format of <c>SerializeMsalV3</c>) with one account, its ID, access and refresh token.</summary>
    private static byte[] PrimedCache()
    {
        const string environment = "login.microsoftonline.com";
        var home = $"{ObjectId}.{TenantId}";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var expires = now + 24 * 3600;
        var idToken = UnsignedJwt(new Dictionary<string, object>
        {
            ["aud"] = ClientId, ["iss"] = $"https://{environment}/{TenantId}/v2.0", ["iat"] = now, ["nbf"] = now, ["exp"] = expires,
            ["oid"] = ObjectId, ["tid"] = TenantId, ["sub"] = "bench-subject", ["preferred_username"] = "bench@example.com", ["name"] = "Bench",
        });
        var cache = new Dictionary<string, object>
        {
            ["Account"] = new Dictionary<string, object>
            {
                [$"{home}-{environment}-{TenantId}"] = new Dictionary<string, object>
                {
                    ["home_account_id"] = home, ["environment"] = environment, ["realm"] = TenantId, ["local_account_id"] = ObjectId,
                    ["username"] = "bench@example.com", ["authority_type"] = "MSSTS", ["name"] = "Bench",
                },
            },
            ["IdToken"] = new Dictionary<string, object>
            {
                [$"{home}-{environment}-idtoken-{ClientId}-{TenantId}-"] = new Dictionary<string, object>
                {
                    ["home_account_id"] = home, ["environment"] = environment, ["credential_type"] = "IdToken", ["client_id"] = ClientId,
                    ["secret"] = idToken, ["realm"] = TenantId,
                },
            },
            ["AccessToken"] = new Dictionary<string, object>
            {
                [$"{home}-{environment}-accesstoken-{ClientId}-{TenantId}-user.read"] = new Dictionary<string, object>
                {
                    ["home_account_id"] = home, ["environment"] = environment, ["credential_type"] = "AccessToken", ["client_id"] = ClientId,
                    ["secret"] = "access", ["realm"] = TenantId, ["target"] = "user.read", ["token_type"] = "Bearer",
                    ["cached_at"] = now.ToString(), ["expires_on"] = expires.ToString(), ["extended_expires_on"] = expires.ToString(),
                },
            },
            ["RefreshToken"] = new Dictionary<string, object>
            {
                [$"{home}-{environment}-refreshtoken-{ClientId}--"] = new Dictionary<string, object>
                {
                    ["home_account_id"] = home, ["environment"] = environment, ["credential_type"] = "RefreshToken", ["client_id"] = ClientId,
                    ["secret"] = "refresh",
                },
            },
            ["AppMetadata"] = new Dictionary<string, object>
            {
                [$"appmetadata-{environment}-{ClientId}"] = new Dictionary<string, object> { ["environment"] = environment, ["client_id"] = ClientId },
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(cache);
    }

    private static string UnsignedJwt(Dictionary<string, object> claims)
    {
        static string Part(object value) => Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(value)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{Part(new Dictionary<string, string> { ["alg"] = "none", ["typ"] = "JWT" })}.{Part(claims)}.";
    }
}
