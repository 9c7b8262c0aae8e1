using System.Collections.Concurrent;
using O8Actors.Providers;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A provider that rotates refresh tokens with replay detection, as a strict authorization server does: each refresh
/// token works once; spending one twice is answered <c>invalid_grant</c> and revokes the whole family. It counts every
/// refresh and revocation, can hold refreshes until the test releases them, and issues tokens that expire
/// <see cref="Lifetime"/> after <see cref="Clock"/> (the actor system's scheduler, so virtual time works).
/// </summary>
internal sealed class RotatingStrategy(string name, Func<DateTimeOffset> clock) : ProviderStrategy
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _valid = [];
    private readonly HashSet<string> _spent = [];
    private int _next;
    private int _refreshes;
    private int _replays;
    private TaskCompletionSource _hold = Released();

    public override string Name => name;

    public Func<DateTimeOffset> Clock { get; } = clock;

    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Whether the provider has a revocation endpoint.</summary>
    public bool Revokes { get; init; } = true;

    /// <summary>Revocations fail (the endpoint is down).</summary>
    public bool RevocationFails { get; set; }

    /// <summary>The subject of the validated ID token a refresh returns; none when null.</summary>
    public string? RefreshSubject { get; set; }

    /// <summary>Refresh requests received.</summary>
    public int Refreshes => Volatile.Read(ref _refreshes);

    /// <summary>Refresh tokens spent a second time (each kills its family).</summary>
    public int Replays => Volatile.Read(ref _replays);

    /// <summary>Tokens revoked, with their type hints, in order.</summary>
    public ConcurrentQueue<RevocationContext> Revoked { get; } = new();

    /// <summary>Refreshes wait until <see cref="Release"/>.</summary>
    public void Hold()
    {
        lock (_gate) _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Release()
    {
        lock (_gate) _hold.TrySetResult();
    }

    /// <summary>Tokens as a login would get them; the refresh token is live.</summary>
    public TokenSet Issue(string? subject = null)
    {
        lock (_gate)
        {
            var n = ++_next;
            var refresh = $"rt-{n}";
            _valid.Add(refresh);
            return new TokenSet($"at-{n}", "Bearer", Clock() + Lifetime, refresh, "read write")
            {
                IdTokenClaims = subject is null ? null : new IdTokenClaims(subject, $"https://{name}.test", ["client"], Clock() + Lifetime, Clock(), null, null, []),
            };
        }
    }

    /// <summary>The error a refused refresh is answered with: <c>invalid_grant</c>, or a provider's own (GitHub's <c>bad_refresh_token</c>).</summary>
    public string RefusalError { get; set; } = "invalid_grant";

    /// <summary>Makes every refresh token invalid (the user revoked the app at the provider).</summary>
    public void RevokeAll()
    {
        lock (_gate) _valid.Clear();
    }

    public bool IsValid(string refreshToken)
    {
        lock (_gate) return _valid.Contains(refreshToken);
    }

    public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => new($"https://{name}.test/authorize?state={context.State}");

    public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
        Task.FromResult(Issue());

    public override async Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _refreshes);
        Task hold;
        lock (_gate) hold = _hold.Task;
        await hold.WaitAsync(cancellationToken);
        lock (_gate)
        {
            if (_spent.Contains(context.RefreshToken))
            {
                Interlocked.Increment(ref _replays);
                _valid.Clear();
            }

            if (!_valid.Remove(context.RefreshToken))
                throw new TokenExchangeException($"The token refresh with provider '{name}' was refused: {RefusalError}.", RefusalError);
            _spent.Add(context.RefreshToken);
        }

        return Issue(RefreshSubject);
    }

    public override Task<bool> RevokeAsync(RevocationContext context, HttpClient http, CancellationToken cancellationToken)
    {
        if (!Revokes) return Task.FromResult(false);
        if (RevocationFails) throw new HttpRequestException("The revocation endpoint is down.");
        Revoked.Enqueue(context);
        lock (_gate) _valid.Remove(context.Token);
        return Task.FromResult(true);
    }

    private static TaskCompletionSource Released()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }
}
