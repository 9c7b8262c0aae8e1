using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// <see cref="AccessTokenHandler"/> with a DPoP account against an API whose nodes do not share their nonces (behind a
/// load balancer, every answer names a nonce no other node takes): each call is refused for its proof, not its token,
/// and is returned as it is; the account's refresh token is not spent on it.
/// </summary>
public sealed class DpopProofRefusalTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_api_that_always_asks_for_a_new_nonce_gets_its_401_back_and_causes_no_refresh()
    {
        await using var o8 = await O8TestHarness.StartAsync(new O8TestHarnessOptions { UseDpop = true });
        var (account, _) = await HarnessAccounts.SignInAsync(o8);
        await using var api = await NonceRotatingApi.StartAsync();
        using var client = new HttpClient(new AccessTokenHandler(o8.Logins, account) { InnerHandler = new SocketsHttpHandler() });

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync(api.Resource).WaitAsync(Wait);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("use_dpop_nonce", response.Headers.WwwAuthenticate.ToString());
        }

        // Before: every call forced a refresh (three here), each rotating the refresh token at the provider.
        Assert.Equal(0, o8.Sandbox.Counters.Refreshes);
        Assert.Equal(6, api.Calls); // each call and its one retry with the nonce it was given
        Assert.All(api.Authorizations, a => Assert.StartsWith("DPoP ", a));
    }

    /// <summary>An API on loopback that answers every call 401 <c>use_dpop_nonce</c> with a nonce it has never given.</summary>
    private sealed class NonceRotatingApi(LoopbackApi api, ConcurrentQueue<string> authorizations, Func<int> calls) : IAsyncDisposable
    {
        private static int s_nonces;

        public Uri Resource => api.Url("/api/me");

        public int Calls => calls();

        public IReadOnlyCollection<string> Authorizations => authorizations;

        public static async Task<NonceRotatingApi> StartAsync()
        {
            var authorizations = new ConcurrentQueue<string>();
            var calls = 0;
            var api = await LoopbackApi.StartAsync(app => app.MapGet("/api/me", (HttpContext context) =>
            {
                Interlocked.Increment(ref calls);
                authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
                context.Response.Headers["DPoP-Nonce"] = $"nonce-{Interlocked.Increment(ref s_nonces)}";
                context.Response.Headers.WWWAuthenticate = "DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\"";
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }));
            return new NonceRotatingApi(api, authorizations, () => Volatile.Read(ref calls));
        }

        public ValueTask DisposeAsync() => api.DisposeAsync();
    }
}
