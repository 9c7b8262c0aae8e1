using System.Collections.Concurrent;

namespace O8Actors.TestKit.Sandbox;

/// <summary>One issued authorization code and what it was issued for. Never printed: <see cref="ToString"/> hides the code.</summary>
internal sealed class IssuedCode(AuthorizeRequestInfo request, string subject, DateTimeOffset expiresAt)
{
    private readonly Lock _gate = new();
    private bool _redeemed;
    private bool _reuseDetected;
    private TokenFamily? _family;

    public AuthorizeRequestInfo Request { get; } = request;
    public string Subject { get; } = subject;
    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>
    /// Until when a replay of this code must still find it: while the tokens it produced live, so the replay can
    /// revoke them (RFC 6749 section 4.1.2); a code that produced none matters no longer. Null: no longer.
    /// </summary>
    public DateTimeOffset? MattersUntil(DateTimeOffset now)
    {
        lock (_gate)
        {
            return _family is { IsRevoked: false } family && family.LiveUntil > now ? family.LiveUntil : null;
        }
    }

    /// <summary>
    /// Marks the code as presented. Any redemption attempt consumes it (so a wrong verifier cannot be retried
    /// with guesses); a second attempt revokes every token issued from the first.
    /// </summary>
    /// <returns><c>true</c> on the first attempt.</returns>
    public bool TryConsume()
    {
        lock (_gate)
        {
            if (!_redeemed)
            {
                _redeemed = true;
                return true;
            }

            _reuseDetected = true;
            _family?.Revoke();
            return false;
        }
    }

    /// <summary>Links the tokens issued from this code; if a replay already happened meanwhile, they die at once.</summary>
    public void Attach(TokenFamily family)
    {
        lock (_gate)
        {
            _family = family;
            if (_reuseDetected)
            {
                family.Revoke();
            }
        }
    }

    public override string ToString() => $"IssuedCode {{ ClientId = {Request.ClientId}, ExpiresAt = {ExpiresAt:O} }}";
}

/// <summary>
/// Issued authorization codes. A code is kept one more lifetime past its expiry, at most <see cref="LateAnswers"/> (a
/// redemption under way when it expired has ended by then, and a late one still reads "expired"), then for as long as
/// the tokens it produced live (a replay must find it to revoke them), and forgotten after that, at the next issue.
/// Thread-safe.
/// </summary>
/// <param name="lifetime">How long a code can be redeemed (<see cref="SandboxOptions.CodeLifetime"/>).</param>
internal sealed class AuthorizationCodeStore(TimeSpan lifetime)
{
    /// <summary>The longest a code (or a device code) is still known after its expiry, and answered as expired.</summary>
    public static readonly TimeSpan LateAnswers = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new(StringComparer.Ordinal);
    private readonly ExpiryQueue _ends = new();
    private readonly TimeSpan _lateAnswers = LateAnswersFor(lifetime);

    /// <summary>How long after its expiry a code of <paramref name="lifetime"/> is still answered as expired.</summary>
    public static TimeSpan LateAnswersFor(TimeSpan lifetime) => lifetime < LateAnswers ? lifetime : LateAnswers;

    /// <summary>How many codes are held.</summary>
    public int Count => _codes.Count;

    public string Issue(AuthorizeRequestInfo request, string subject, DateTimeOffset now)
    {
        Forget(now);
        var code = SandboxHttp.NewSecret();
        var expiresAt = now + lifetime;
        _codes[code] = new IssuedCode(request, subject, expiresAt);
        _ends.Add(code, expiresAt + _lateAnswers);
        return code;
    }

    private void Forget(DateTimeOffset now)
    {
        foreach (var code in _ends.TakeDue(now))
        {
            if (!_codes.TryGetValue(code, out var issued)) continue;
            // A family with a refresh token that never expires keeps its code for the server's life (MaxValue), even
            // if it is revoked later: re-checking every such code now and then would cost a sweep of them all.
            if (issued.MattersUntil(now) is { } until)
            {
                if (until != DateTimeOffset.MaxValue) _ends.Add(code, until);
            }
            else
            {
                _codes.TryRemove(code, out _);
            }
        }
    }

    public IssuedCode? Find(string? code) => code is not null && _codes.TryGetValue(code, out var issued) ? issued : null;
}
