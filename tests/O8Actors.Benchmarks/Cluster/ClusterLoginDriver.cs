using System.Diagnostics;
using System.Net;
using O8Actors.TestKit.Certificates;

namespace O8Actors.Benchmarks.Cluster;

/// <summary>One login as the driver saw it.</summary>
/// <param name="LoginId">The login.</param>
/// <param name="CallbackNode">The node the callback was sent to.</param>
/// <param name="TotalMs">POST /connect sent → callback page received.</param>
/// <param name="CallbackMs">Callback sent → callback page received (routing, the code exchange, the page).</param>
/// <param name="Ok">The callback answered 200.</param>
internal sealed record ClusterLogin(string LoginId, int CallbackNode, double TotalMs, double CallbackMs, bool Ok);

/// <summary>
/// The users: each login POSTs <c>/connect/sandbox</c> to a random node (keeping the binding cookie, as the browser
/// would), GETs the sandbox's authorize URL, and sends the callback to a random node (a random balancer's choice).
/// One HttpClient with keep-alive connections for all (the same for every row).
/// </summary>
internal sealed class ClusterLoginDriver : IDisposable
{
    private readonly HttpClient _http;
    private readonly BenchCluster _cluster;

    public ClusterLoginDriver(BenchCluster cluster, DevelopmentCertificateAuthority ca)
    {
        _cluster = cluster;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            SslOptions = { RemoteCertificateValidationCallback = ca.CreateValidationCallback() },
        }) { Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Runs <paramref name="count"/> logins, <paramref name="concurrency"/> at a time; returns them and the wall time.</summary>
    public async Task<(IReadOnlyList<ClusterLogin> Logins, TimeSpan Elapsed)> RunAsync(int count, int concurrency, int offset)
    {
        var results = new ClusterLogin[count];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
                results[i] = await OneAsync(offset + i);
        }));
        return (results, clock.Elapsed);
    }

    private async Task<ClusterLogin> OneAsync(int index)
    {
        var nodes = _cluster.Ports.Count;
        var begin = Random.Shared.Next(nodes);
        var callbackNode = Random.Shared.Next(nodes);
        var start = Stopwatch.GetTimestamp();
        using var connect = await _http.PostAsync(new Uri($"https://127.0.0.1:{_cluster.Ports[begin]}/connect/sandbox?user=u{index}"), null);
        if (connect.StatusCode != HttpStatusCode.Redirect) return new ClusterLogin("", callbackNode, 0, 0, false);
        var loginId = connect.Headers.GetValues(BenchCluster.LoginIdHeader).Single();
        var cookies = string.Join("; ", connect.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));

        using var authorize = await _http.GetAsync(connect.Headers.Location);
        var callback = new UriBuilder(authorize.Headers.Location!) { Port = _cluster.Ports[callbackNode] }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, callback);
        request.Headers.Add("Cookie", cookies);
        var sent = Stopwatch.GetTimestamp();
        using var landing = await _http.SendAsync(request);
        var end = Stopwatch.GetTimestamp();
        return new ClusterLogin(loginId, callbackNode, Stopwatch.GetElapsedTime(start, end).TotalMilliseconds,
            Stopwatch.GetElapsedTime(sent, end).TotalMilliseconds, landing.StatusCode == HttpStatusCode.OK);
    }

    public void Dispose() => _http.Dispose();
}
