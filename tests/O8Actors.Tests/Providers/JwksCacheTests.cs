using Microsoft.IdentityModel.Tokens;
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
    private int _jwksStatus = 200;

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
            if (_jwksStatus != 200)
            {
                await RecordingServer.Respond(context, _jwksStatus, "text/plain", "unavailable");
                return;
            }
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

    /// <summary>When the keys held are past their age: the next login starts the periodic fetch.</summary>
    private static readonly DateTimeOffset RefreshDue = Start + JwksCache.MaxAge + TimeSpan.FromHours(1);

    /// <summary>A cache holding the endpoint's keys, with the clock moved on to when they are due for the periodic fetch.</summary>
    private async Task<(JwksCache Cache, IReadOnlyList<SecurityKey> Held)> KeysDueForRefreshAsync(TimeSpan? refreshPatience = null)
    {
        var cache = Cache(refreshPatience: refreshPatience);
        var held = await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience);
        _clock.Now = RefreshDue;
        return (cache, held);
    }

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
        var (cache, held) = await KeysDueForRefreshAsync(refreshPatience: TimeSpan.FromMilliseconds(300));
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

    [Fact]
    public async Task Forged_logout_tokens_cannot_drive_the_key_endpoint_while_it_fails_and_no_keys_were_ever_fetched()
    {
        _jwksStatus = 503;
        var cache = Cache();

        // Posts anyone can make (back-channel logouts), one after another while the endpoint fails: one fetch, the others
        // fail as it did.
        for (var i = 0; i < 5; i++)
        {
            var error = await Assert.ThrowsAsync<IdTokenValidationException>(
                () => cache.GetAsync(_http, CancellationToken.None, anyoneMaySend: true).WaitAsync(Patience));
            Assert.True(error.KeysUnavailable);
            _clock.Now += TimeSpan.FromSeconds(5);
        }
        Assert.Equal(1, JwksFetches);

        // A login (its ID token from the token endpoint) still fetches at once: it has nothing else to verify with.
        _jwksStatus = 200;
        Assert.Single(await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(2, JwksFetches);
    }

    [Fact]
    public async Task A_logout_tokens_wait_for_another_fetch_counts_from_the_failure_not_from_the_start_of_a_fetch_that_hung()
    {
        _jwksGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // the endpoint hangs
        var cache = Cache(fetchTimeout: TimeSpan.FromMilliseconds(300));

        var first = cache.GetAsync(_http, CancellationToken.None, anyoneMaySend: true);
        _clock.Now += JwksCache.FirstRetryDelay + TimeSpan.FromSeconds(1); // the fetch hangs past the delay, then fails
        await Assert.ThrowsAsync<IdTokenValidationException>(() => first.WaitAsync(Patience));

        _jwksGate.TrySetResult();
        await Assert.ThrowsAsync<IdTokenValidationException>(() => cache.GetAsync(_http, CancellationToken.None, anyoneMaySend: true).WaitAsync(Patience));
        Assert.Equal(1, JwksFetches);
    }

    [Fact]
    public async Task A_logout_token_fetches_the_key_set_again_once_the_first_retry_delay_has_passed()
    {
        _jwksStatus = 503;
        var cache = Cache();
        await Assert.ThrowsAsync<IdTokenValidationException>(() => cache.GetAsync(_http, CancellationToken.None, anyoneMaySend: true).WaitAsync(Patience));

        _jwksStatus = 200;
        _clock.Now += JwksCache.FirstRetryDelay;

        Assert.Single(await cache.GetAsync(_http, CancellationToken.None, anyoneMaySend: true).WaitAsync(Patience));
        Assert.Equal(2, JwksFetches);
    }

    [Fact]
    public async Task A_key_endpoint_that_fails_the_periodic_refresh_is_asked_again_only_after_a_backoff_and_the_keys_held_serve_meanwhile()
    {
        var (cache, held) = await KeysDueForRefreshAsync();
        var failedAt = RefreshDue;
        _jwksStatus = 503;

        Assert.Same(held, await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience)); // the periodic fetch fails
        Assert.Equal(2, JwksFetches);

        // Every login during the outage verifies with the keys held at once, and none of them asks the endpoint again.
        for (var i = 0; i < 5; i++)
        {
            var login = cache.GetAsync(_http, CancellationToken.None);
            Assert.True(login.IsCompletedSuccessfully, "a login during the backoff waited for the key endpoint");
            Assert.Same(held, await login);
        }
        Assert.Equal(2, JwksFetches);

        // After the backoff one fetch again; it fails too, and the next delay is twice as long.
        _clock.Now = failedAt + JwksCache.FirstRetryDelay;
        Assert.Same(held, await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(3, JwksFetches);
        _clock.Now += JwksCache.FirstRetryDelay;
        Assert.Same(held, await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(3, JwksFetches);

        // The endpoint is back with a rotated key: the first login after the doubled delay takes the new set.
        _jwksStatus = 200;
        _keys.EcKey("k2");
        _clock.Now += JwksCache.FirstRetryDelay;
        var fresh = await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience);
        Assert.Equal(4, JwksFetches);
        Assert.Contains(fresh, k => k.KeyId == "k2");

        // A success ends the backoff: the next outage starts again from the first delay.
        var nextFailure = _clock.Now + JwksCache.MaxAge;
        _clock.Now = nextFailure;
        _jwksStatus = 503;
        Assert.Same(fresh, await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        _clock.Now = nextFailure + JwksCache.FirstRetryDelay;
        Assert.Same(fresh, await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(6, JwksFetches);
    }

    [Fact]
    public async Task A_rotated_key_id_after_a_failed_fetch_is_looked_up_again_after_the_first_retry_delay_however_long_the_backoff_has_grown()
    {
        var (cache, _) = await KeysDueForRefreshAsync();
        var failedAt = RefreshDue;
        _jwksStatus = 503;
        await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience);
        _clock.Now = failedAt + JwksCache.FirstRetryDelay;
        await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience); // fails again: the next try in 60 s
        Assert.Equal(3, JwksFetches);

        // The endpoint is back with a rotated key; a token names it 10 s later: too soon after the failed fetch.
        _jwksStatus = 200;
        _keys.EcKey("k2");
        _clock.Now += TimeSpan.FromSeconds(10);
        var tooSoon = await Assert.ThrowsAsync<IdTokenValidationException>(() => cache.RefetchAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.True(tooSoon.KeysUnavailable);
        Assert.Equal(3, JwksFetches);

        // Once the first retry delay has passed since the failed fetch, the unknown key id fetches the set (the periodic
        // backoff, 60 s now, would have waited longer).
        _clock.Now += JwksCache.FirstRetryDelay - TimeSpan.FromSeconds(10);
        var (keys, refetched) = await cache.RefetchAsync(_http, CancellationToken.None).WaitAsync(Patience);
        Assert.True(refetched);
        Assert.Contains(keys, k => k.KeyId == "k2");
        Assert.Equal(4, JwksFetches);
    }

    [Fact]
    public async Task A_rotated_key_id_after_a_fetch_that_hung_and_failed_waits_the_first_retry_delay_from_the_failure_not_from_the_fetch_s_start()
    {
        // Long enough that the clock moves on while the fetch hangs, on a loaded machine too.
        var cache = Cache(fetchTimeout: TimeSpan.FromSeconds(1));
        var held = await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience);
        _clock.Now = RefreshDue;
        _jwksGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // the endpoint hangs

        var during = cache.GetAsync(_http, CancellationToken.None);         // starts the periodic fetch
        _clock.Now += JwksCache.FirstRetryDelay + TimeSpan.FromSeconds(1);  // it hangs past the delay, then fails
        Assert.Same(held, await during.WaitAsync(Patience));

        // The endpoint is back with a rotated key, and a token names it at once: too soon after the failure, so no fetch
        // starts (one would have brought the new key) and the failed one answers. (Fetches are not counted: under load
        // the hung request may never have reached the server.)
        _jwksGate.TrySetResult();
        _keys.EcKey("k2");
        var tooSoon = await Assert.ThrowsAsync<IdTokenValidationException>(() => cache.RefetchAsync(_http, CancellationToken.None).WaitAsync(Patience));
        Assert.True(tooSoon.KeysUnavailable);

        // The first retry delay after the failure: the unknown key id fetches the set.
        _clock.Now += JwksCache.FirstRetryDelay;
        var (keys, refetched) = await cache.RefetchAsync(_http, CancellationToken.None).WaitAsync(Patience);
        Assert.True(refetched);
        Assert.Contains(keys, k => k.KeyId == "k2");
    }

    [Fact]
    public async Task Once_a_login_has_waited_its_patience_for_a_hanging_refresh_the_next_logins_verify_with_the_keys_held_at_once()
    {
        var (cache, held) = await KeysDueForRefreshAsync(refreshPatience: TimeSpan.FromMilliseconds(300));
        _jwksGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // hangs

        Assert.Same(held, await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience)); // waited its patience

        var next = cache.GetAsync(_http, CancellationToken.None);
        Assert.True(next.IsCompletedSuccessfully, "the next login waited again for the fetch another login gave up on");
        Assert.Same(held, await next);

        // The fetch still runs; once it answers, the logins after it use what it brought.
        _keys.EcKey("k2");
        _jwksGate.SetResult();
        await Eventually.AssertAsync(async () => Assert.Contains(await cache.GetAsync(_http, CancellationToken.None), k => k.KeyId == "k2"), Patience);
        Assert.Equal(2, JwksFetches);
    }

    [Fact]
    public async Task Forged_posts_with_unknown_key_ids_do_not_spend_the_refetch_of_the_provider_s_own_tokens()
    {
        var cache = Cache();
        await cache.GetAsync(_http, CancellationToken.None).WaitAsync(Patience);

        // Anyone can post a logout token naming a key id the set lacks; it refetches, as a rotation may explain it.
        _clock.Now = Start + JwksCache.MinRefetchInterval;
        var (_, forgedRefetched) = await cache.RefetchAsync(_http, CancellationToken.None, anyoneMaySend: true).WaitAsync(Patience);
        Assert.True(forgedRefetched);
        Assert.Equal(2, JwksFetches);

        // A minute later the provider rotates its key and a login's ID token names it: it is looked up, not refused for
        // five minutes (posting junk every five minutes would otherwise fail every login after each rotation).
        _keys.EcKey("k2");
        _clock.Now += TimeSpan.FromMinutes(1);
        var (keys, refetched) = await cache.RefetchAsync(_http, CancellationToken.None).WaitAsync(Patience);
        Assert.True(refetched);
        Assert.Contains(keys, k => k.KeyId == "k2");
        Assert.Equal(3, JwksFetches);

        // Posts stay bounded: within the interval of the last refetch a post started, a post's unknown key id fetches nothing.
        _clock.Now += TimeSpan.FromMinutes(3);
        var (_, again) = await cache.RefetchAsync(_http, CancellationToken.None, anyoneMaySend: true).WaitAsync(Patience);
        Assert.False(again);
        Assert.Equal(3, JwksFetches);
    }
}
