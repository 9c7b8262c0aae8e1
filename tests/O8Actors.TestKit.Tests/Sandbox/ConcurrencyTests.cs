using System.Diagnostics;
using System.Net;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Certificates;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;
using Xunit.Abstractions;

namespace O8Actors.TestKit.Tests.Sandbox;

public sealed class ConcurrencyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Parallel_redemptions_of_one_code_yield_one_token_set_and_then_revoke_it()
    {
        await using var server = await Sandboxes.StartAsync();
        using var client = new RawOAuthClient(server);
        var pkce = Pkce.Create();
        var code = await client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.ExchangeAsync(Sandboxes.PublicClient, code, pkce)));

        var winner = Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        Assert.All(replies.Where(r => r != winner), r => Assert.Equal("invalid_grant", r.Error));
        Assert.False(server.IsActive(winner.AccessToken!));
        Assert.False(server.IsRefreshTokenActive(winner.RefreshToken!));
    }

    [Fact]
    public async Task Many_scripted_logins_land_over_https_and_exchange_concurrently()
    {
        const int logins = 100;
        using var ca = DevelopmentCertificateAuthority.Create();
        using var certificate = ca.IssueServerCertificate();
        await using var listener = await CallbackListener.StartAsync(certificate);
        var redirectUri = listener.Url("/callback").AbsoluteUri;
        await using var server = await SandboxAuthorizationServer.StartAsync(new SandboxOptions
        {
            Certificate = certificate,
            Clients = { new SandboxClient("load", null, [redirectUri], ClientAuthMethod.None) },
        });
        await using var browser = new ScriptedBrowser(new ScriptedBrowserOptions { TrustedRoot = ca.RootCertificate, MaxConcurrency = 8 });
        using var http = ca.CreateHttpClient();
        var verifiers = new Dictionary<string, Pkce>();
        var clock = Stopwatch.StartNew();

        for (var i = 0; i < logins; i++)
        {
            var pkce = Pkce.Create();
            verifiers[$"s{i}"] = pkce;
            var url = Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(server.AuthorizationEndpoint.AbsoluteUri, new Dictionary<string, string?>
            {
                ["response_type"] = "code", ["client_id"] = "load", ["redirect_uri"] = redirectUri, ["state"] = $"s{i}",
                ["code_challenge"] = pkce.Challenge, ["code_challenge_method"] = "S256",
            });
            await browser.LaunchAsync(new Uri(url), CancellationToken.None);
        }

        await browser.WhenAllCompletedAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var landed = clock.Elapsed;
        var exchanges = browser.Visits.Select(async visit =>
        {
            var result = visit.Result!;
            Assert.Equal(ScriptedVisitOutcome.Landed, result.Outcome);
            using var response = await http.PostAsync(server.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["client_id"] = "load", ["redirect_uri"] = redirectUri,
                ["code"] = result.CallbackParameter("code")!, ["code_verifier"] = verifiers[result.CallbackParameter("state")!].Verifier,
            }));
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(exchanges).WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"{logins} logins landed in {landed.TotalMilliseconds:F0} ms; all exchanged after {clock.Elapsed.TotalMilliseconds:F0} ms");

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(logins, listener.Hits.Count);
        Assert.Equal(logins, listener.Hits.Select(h => h.ConnectionId).Distinct().Count());
        Assert.Equal(logins, server.Counters.TokensIssued);
    }
}
