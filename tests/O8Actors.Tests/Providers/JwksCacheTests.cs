using O8Actors.Providers.IdTokens;
using O8Actors.TestSupport;

namespace O8Actors.Tests.Providers;

/// <summary>
/// The key set's one fetch is shared by every login that waits for it: these play a waiting login that gives up, and a
/// key endpoint that hangs during a periodic refresh, against a real Kestrel server whose <c>/jwks</c> answers only
/// when the test lets it.
/// </summary>
public sealed class JwksCacheTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 4, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http = new();
    private readonly TestIdTokens _keys = new();
    private readonly MovableTimeProvider _clock = new(Start);
    private RecordingServer _server = null!;
    private TaskCompletionSource _jwksGate = Opened();
    private bool _servesNoKeys;

    public async Task InitializeAsync()
    {
        _keys.EcKey("k1");
        _server = await RecordingServer.StartAsync();
        _server.Handler = async (context, request) =>
        {
            if (request.Path != "/jwks")
            {
                await RecordingServer.Respond(context, 404, "text/plain", "not found");
                return;
            }
            await _jwksGate.Task.WaitAsync(context.RequestAborted);
            await RecordingServer.Respond(context, 200, "application/json", _servesNoKeys ? """{"keys":[]}""" : _keys.Jwks());
        };
    }

    public async Task DisposeAsync()
    {
        _jwksGate.TrySetResult();
        _http.Dispose();
        _keys.Dispose();
        await _server.DisposeAsync();
    }

    private static TaskCompletionSource Opened()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    private JwksCache Cache(TimeSpan? fetchTimeout = null, TimeSpan? refreshPatience = null) =>
        new("sandbox", _server.Url("/jwks"), _clock)
        {
            FetchTimeout = fetchTimeout ?? TimeSpan.FromSeconds(10), RefreshPatience = refreshPatience ?? TimeSpan.FromSeconds(10),
        };

    private int JwksFetches => _server.Requests.Count(r => r.Path == "/jwks");

    [Fact]
    public async Task A_login_that_stops_waiting_for_the_shared_fetch_does_not_fail_the_others_waiting_for_it()
    {
        _jwksGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = Cache();
        using var firstLogin = new CancellationTokenSource();

        var first = cache.GetAsync(_http, firstLogin.Token);   // starts the fetch
        var second = cache.GetAsync(_http, CancellationToken.None); // waits for the same fetch
        await firstLogin.CancelAsync();                        // the first login's exchange times out

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Patience));
        _jwksGate.SetResult();
        var keys = await second.WaitAsync(Patience);

        Assert.Single(keys);
        Assert.Equal(1, JwksFetches);
    }

    [Fact]
    public async Task A_key_endpoint_that_hangs_during_the_periodic_refresh_leaves_the_keys_held_in_use()
    {
        var cache = Cache(refreshPatience: TimeSpan.FromMilliseconds(300));
        var held = await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience);
        _clock.Now = Start + JwksCache.MaxAge + TimeSpan.FromHours(1);
        _jwksGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // never answers

        var during = await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience);

        Assert.Same(held, during);
        // The refresh still runs (for its 10 s fetch timeout); under load its request may reach the server only now.
        await Eventually.TrueAsync(() => JwksFetches == 2, "the periodic refresh reached the key endpoint");
        Assert.Equal(2, JwksFetches);
    }

    [Fact]
    public async Task A_first_fetch_that_hangs_fails_with_a_reason_that_names_the_key_set_and_the_next_login_fetches_again()
    {
        _jwksGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Long enough that the next fetch, answered at once, meets it on a loaded machine too.
        var cache = Cache(fetchTimeout: TimeSpan.FromSeconds(2));

        var error = await Assert.ThrowsAsync<IdTokenValidationException>(() => cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.Contains("/jwks did not answer within 2 seconds", error.Message, StringComparison.Ordinal);

        _jwksGate.SetResult();
        Assert.Single(await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(2, JwksFetches);
    }

    [Fact]
    public async Task A_caller_with_a_deadline_of_its_own_stops_waiting_for_a_hanging_first_fetch_as_for_an_unavailable_key_set()
    {
        _jwksGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = Cache();

        // A refresh, whose refresh token is spent: it must stop waiting in time to hand back its tokens.
        var error = await Assert.ThrowsAsync<IdTokenValidationException>(() =>
            cache.GetAsync(_http, CancellationToken.None, JwksCache.DeadlineIn(TimeSpan.FromMilliseconds(300))).WaitAsync(Patience));
        Assert.True(error.KeysUnavailable);
        Assert.Contains("/jwks did not answer within 0.3 seconds", error.Message, StringComparison.Ordinal);

        // The fetch went on for the others: the next caller gets its keys without a second fetch.
        _jwksGate.SetResult();
        Assert.Single(await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(1, JwksFetches);
    }

    [Fact]
    public async Task A_key_set_without_a_signing_key_is_a_failed_fetch_and_the_keys_held_serve_through_it()
    {
        _servesNoKeys = true;
        var cache = Cache();

        // Kept, an empty set would refuse every token until it aged out (12 hours).
        var error = await Assert.ThrowsAsync<IdTokenValidationException>(() => cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.True(error.KeysUnavailable);
        Assert.Contains("holds no public signing key", error.Message, StringComparison.Ordinal);

        _servesNoKeys = false;
        var held = await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience);
        Assert.Single(held);
        _servesNoKeys = true;
        _clock.Now = Start + JwksCache.MaxAge + TimeSpan.FromHours(1);
        Assert.Same(held, await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(3, JwksFetches);
    }
}
