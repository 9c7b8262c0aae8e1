using System.Collections.Concurrent;
using System.Text;
using O8Actors.SoakTests.Hostile;
using O8Actors.SoakTests.Support;
using O8Actors.TestKit.Browser;

namespace O8Actors.SoakTests.Soak;

/// <summary>
/// Stray and garbage requests fired at the listener while the soak runs: favicons, HEADs, wrong paths, unknown
/// states, garbage queries and replays of callbacks the scripted browser already landed (real, used codes). None may
/// be answered with a 2xx or a 5xx.
/// </summary>
internal sealed class StrayTraffic(RawHttp listener, HttpClient keepAlive, Uri redirectUri, ScriptedBrowser? browser) : IAsyncDisposable
{
    private readonly SemaphoreSlim _slots = new(16, 16);
    private readonly ConcurrentBag<Task> _running = [];
    private readonly ConcurrentQueue<string> _unexpected = new();
    private int _sent;

    public int Sent => Volatile.Read(ref _sent);

    public IReadOnlyCollection<string> Unexpected => _unexpected.ToArray();

    /// <summary>Queues <paramref name="count"/> stray requests (fire and forget, bounded concurrency).</summary>
    public void Fire(int seed, int count)
    {
        for (var k = 0; k < count; k++) _running.Add(SendOneAsync(seed * 31 + k));
    }

    private async Task SendOneAsync(int n)
    {
        await _slots.WaitAsync();
        try
        {
            Interlocked.Increment(ref _sent);
            var path = redirectUri.AbsolutePath;
            var status = (n % 8) switch
            {
                0 => await ViaKeepAliveAsync(HttpMethod.Get, "/favicon.ico"),
                1 => await ViaKeepAliveAsync(HttpMethod.Head, $"{path}?state={HostileInputs.RandomState()}&code=x"),
                2 => await ViaKeepAliveAsync(HttpMethod.Get, $"{path}?state={HostileInputs.RandomState()}&code=stray{n}"),
                3 => await ViaKeepAliveAsync(HttpMethod.Get, $"{path}?{Garbage(n)}"),
                4 => await ViaKeepAliveAsync(HttpMethod.Get, Replay(n) ?? path),
                5 => (await listener.SendAsync(Encoding.Latin1.GetBytes(listener.Request("GET", $"{path}?state=%ZZ{n}&code=%C3%28")))).Status,
                6 => await ViaKeepAliveAsync(HttpMethod.Options, path),
                _ => (await listener.SendAsync(Encoding.Latin1.GetBytes(listener.Request("GET", Replay(n) ?? "/robots.txt")))).Status,
            };
            if (status is < 400 or >= 500) _unexpected.Enqueue($"stray #{n % 8}: HTTP {status}");
        }
        catch (Exception ex)
        {
            _unexpected.Enqueue($"stray #{n % 8}: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<int> ViaKeepAliveAsync(HttpMethod method, string target)
    {
        using var request = new HttpRequestMessage(method, new Uri(redirectUri, target));
        using var response = await keepAlive.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return (int)response.StatusCode;
    }

    /// <summary>A landed callback's path and query (a used state and a redeemed code), if one exists yet.</summary>
    private string? Replay(int n)
    {
        var visits = browser?.Visits;
        if (visits is null || visits.Count == 0) return null;
        for (var tries = 0; tries < 8; tries++)
        {
            var visit = visits[(n + tries * 7919) % visits.Count];
            if (visit.Result is { Outcome: ScriptedVisitOutcome.Landed, CallbackUrl: { } url }) return url.PathAndQuery;
        }

        return null;
    }

    private static string Garbage(int n)
    {
        var random = new Random(n);
        var chars = new char[random.Next(1, 200)];
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%&=+";
        for (var i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
        return Uri.EscapeDataString(new string(chars)).Replace("%26", "&").Replace("%3D", "=");
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_running);
        _slots.Dispose();
    }
}
