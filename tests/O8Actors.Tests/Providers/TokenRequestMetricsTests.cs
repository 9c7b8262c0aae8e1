using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Providers;
using O8Actors.Runtime;
using static O8Actors.Tests.Providers.ProviderTestData;

namespace O8Actors.Tests.Providers;

/// <summary>
/// <c>o8.token_exchange.duration</c> tells its requests apart by <c>operation</c>: every POST of the providers' client
/// was recorded as if it were a token exchange, so a sign-out's revocation, a pushed request or a device login's polls
/// (whose <c>authorization_pending</c> is a 400) read as exchanges, failed ones among them.
/// </summary>
public sealed class TokenRequestMetricsTests : IAsyncLifetime
{
    private ServiceProvider _services = null!;
    private RecordingServer _server = null!;

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection().AddO8HttpClient(TimeSpan.FromSeconds(10)).BuildServiceProvider();
        _server = await RecordingServer.StartAsync();
        _server.Handler = (context, request) => request.Path == "/token"
            ? RecordingServer.Respond(context, 200, "application/json", """{"access_token":"at-metrics","token_type":"Bearer","expires_in":3600}""")
            : RecordingServer.Respond(context, 400, "application/json", """{"error":"invalid_token"}""");
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Each_request_is_recorded_with_its_operation()
    {
        var measured = new ConcurrentQueue<(string? Operation, string? Result, string? Provider)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "o8.token_exchange.duration") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            string? operation = null, result = null, provider = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "operation") operation = tag.Value as string;
                else if (tag.Key == "result") result = tag.Value as string;
                else if (tag.Key == "provider") provider = tag.Value as string;
            }

            // Other tests of the assembly record on the instrument meanwhile (their servers on 127.0.0.1): only this
            // test's requests, sent to "localhost", are kept.
            if (provider == "localhost") measured.Enqueue((operation, result, provider));
        });
        listener.Start();
        var options = Options(OnLocalhost("/token"), ClientAuthentication.Basic);
        options.RevocationEndpoint = OnLocalhost("/revoke");
        var strategy = new GenericOAuthStrategy(options);
        var http = _services.GetRequiredService<IHttpClientFactory>().CreateClient(O8Bootstrap.HttpClientName);

        await strategy.ExchangeCodeAsync(Exchange(), http, CancellationToken.None);
        await strategy.RevokeAsync(new RevocationContext("at-metrics", "access_token"), http, CancellationToken.None);

        Assert.Equal([("code_exchange", "ok"), ("revocation", "http_4xx")], measured.Select(m => (m.Operation, m.Result)));
    }

    private Uri OnLocalhost(string path) => new UriBuilder(_server.Url(path)) { Host = "localhost" }.Uri;
}
