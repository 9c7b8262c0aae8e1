using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Sandbox;

public sealed class TokenFaultTests
{
    [Fact]
    public async Task Server_error_fault_is_a_5xx_and_the_code_survives_for_a_retry()
    {
        await using var server = await Sandboxes.StartAsync(o => o.TokenFaults = TokenFaultPlan.Random(TokenFault.ServerError(503), share: 1));
        using var client = new RawOAuthClient(server);
        var pkce = Pkce.Create();
        var code = await client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        var faulted = await client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
        server.TokenFaults = null;
        var retried = await client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, faulted.Status);
        Assert.Equal("server_error", faulted.Error);
        Assert.Equal(HttpStatusCode.OK, retried.Status);
        Assert.Equal(1, server.Counters.Faults(TokenFaultKind.ServerError));
    }

    [Fact]
    public async Task Malformed_json_fault_cannot_be_parsed()
    {
        await using var server = await Sandboxes.StartAsync(o => o.TokenFaults = TokenFaultPlan.Random(TokenFault.MalformedJson(), share: 1));
        using var client = new RawOAuthClient(server);
        var pkce = Pkce.Create();

        var reply = await client.ExchangeAsync(Sandboxes.PublicClient, await client.GetCodeAsync(Sandboxes.PublicClient, pkce), pkce);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(reply.Body));
        Assert.Equal(1, server.Counters.Faults(TokenFaultKind.MalformedJson));
    }

    [Fact]
    public async Task Dropped_connection_fault_surfaces_as_a_transport_error()
    {
        await using var server = await Sandboxes.StartAsync(o => o.TokenFaults = TokenFaultPlan.Random(TokenFault.DropConnection(), share: 1));
        using var client = new RawOAuthClient(server);
        var pkce = Pkce.Create();
        var code = await client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.ExchangeAsync(Sandboxes.PublicClient, code, pkce));
        Assert.Equal(1, server.Counters.Faults(TokenFaultKind.DropConnection));
        Assert.Equal(0, server.Counters.TokensIssued);
    }

    [Fact]
    public async Task Delay_fault_holds_the_answer_until_the_clock_moves()
    {
        var time = new FakeTimeProvider();
        await using var server = await Sandboxes.StartAsync(o =>
        {
            o.TimeProvider = time;
            o.TokenFaults = TokenFaultPlan.Random(TokenFault.Delay(TimeSpan.FromSeconds(30)), share: 1);
        });
        using var client = new RawOAuthClient(server);
        var pkce = Pkce.Create();
        var code = await client.GetCodeAsync(Sandboxes.PublicClient, pkce);

        var pending = client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
        await Eventually.TrueAsync(() => server.Counters.Faults(TokenFaultKind.Delay) == 1, "the delay fault struck");
        Assert.False(pending.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(30));
        var reply = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }

    [Fact]
    public async Task Delay_fault_holds_the_request_until_the_client_gives_up()
    {
        await using var server = await Sandboxes.StartAsync(o => o.TokenFaults = TokenFaultPlan.Random(TokenFault.Delay(TimeSpan.FromMinutes(5)), share: 1));
        using var client = new RawOAuthClient(server);
        var pkce = Pkce.Create();
        var code = await client.GetCodeAsync(Sandboxes.PublicClient, pkce);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var impatient = new RawOAuthClient(server, http);

        var exchange = impatient.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
        // Once the fault holds the request, no answer comes; the client gives up as a timeout would. (A 1 s client
        // timeout raced the server under CI load: the client could give up before the request reached the fault.)
        await Eventually.TrueAsync(() => server.Counters.Faults(TokenFaultKind.Delay) == 1, "the delay fault struck");
        Assert.False(exchange.IsCompleted, "the delayed request was answered");
        http.CancelPendingRequests();

        await Assert.ThrowsAsync<TaskCanceledException>(() => exchange);
        Assert.Equal(0, server.Counters.TokensIssued);
    }

    [Fact]
    public async Task Per_login_faults_strike_only_the_chosen_logins()
    {
        await using var server = await Sandboxes.StartAsync(o => o.TokenFaults = TokenFaultPlan.PerLogin(
            login => login.LoginHint == "flaky" ? TokenFault.ServerError(500) : null));
        using var client = new RawOAuthClient(server);
        var flakyPkce = Pkce.Create();
        var finePkce = Pkce.Create();
        var flakyCode = await client.GetCodeAsync(Sandboxes.PublicClient, flakyPkce, extra: new Dictionary<string, string?> { ["login_hint"] = "flaky" });
        var fineCode = await client.GetCodeAsync(Sandboxes.PublicClient, finePkce, extra: new Dictionary<string, string?> { ["login_hint"] = "fine" });

        var flaky = await client.ExchangeAsync(Sandboxes.PublicClient, flakyCode, flakyPkce);
        var fine = await client.ExchangeAsync(Sandboxes.PublicClient, fineCode, finePkce);
        var fineRefresh = await client.RefreshAsync(Sandboxes.PublicClient, fine.RefreshToken!);

        Assert.Equal(HttpStatusCode.InternalServerError, flaky.Status);
        Assert.Equal(HttpStatusCode.OK, fine.Status);
        Assert.Equal(HttpStatusCode.OK, fineRefresh.Status);
        Assert.Equal(1, server.Counters.FaultsInjected);
    }

    [Fact]
    public async Task Random_share_is_reproducible_with_the_same_seed()
    {
        var first = await CountFaultsAsync(seed: 1234);
        var second = await CountFaultsAsync(seed: 1234);

        Assert.Equal(first, second);
        Assert.InRange(first.Count(f => f), 5, 35);
    }

    private static async Task<bool[]> CountFaultsAsync(int seed)
    {
        await using var server = await Sandboxes.StartAsync(o => o.TokenFaults = TokenFaultPlan.Random(TokenFault.ServerError(), share: 0.5, seed: seed));
        using var client = new RawOAuthClient(server);
        var faulted = new bool[40];
        for (var i = 0; i < faulted.Length; i++)
        {
            var reply = await client.TokenAsync(new Dictionary<string, string> { ["grant_type"] = "password", ["client_id"] = Sandboxes.PublicClient });
            faulted[i] = reply.Status == HttpStatusCode.ServiceUnavailable;
        }

        Assert.Equal(faulted.Count(f => f), server.Counters.FaultsInjected);
        return faulted;
    }
}
