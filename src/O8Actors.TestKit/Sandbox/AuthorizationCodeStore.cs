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

/// <summary>Issued authorization codes. Thread-safe.</summary>
internal sealed class AuthorizationCodeStore
{
    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new(StringComparer.Ordinal);

    public string Issue(AuthorizeRequestInfo request, string subject, DateTimeOffset expiresAt)
    {
        var code = SandboxHttp.NewSecret();
        _codes[code] = new IssuedCode(request, subject, expiresAt);
        return code;
    }

    public IssuedCode? Find(string? code) => code is not null && _codes.TryGetValue(code, out var issued) ? issued : null;
}
