namespace O8Actors.TestKit.Sandbox;

/// <summary>A way for the token endpoint to misbehave.</summary>
public enum TokenFaultKind
{
    /// <summary>Answer with a 5xx status and a JSON error body.</summary>
    ServerError,

    /// <summary>Wait, then answer normally.</summary>
    Delay,

    /// <summary>Answer 200 with a JSON content type and a truncated, unparseable body.</summary>
    MalformedJson,

    /// <summary>Abort the connection without any response (<c>HttpContext.Abort()</c>).</summary>
    DropConnection,
}

/// <summary>One fault. Faults strike before the request is processed, so a code survives a faulted exchange and a retry can succeed.</summary>
/// <param name="Kind">What goes wrong.</param>
/// <param name="StatusCode">For <see cref="TokenFaultKind.ServerError"/>: the status (500-599).</param>
/// <param name="DelayBy">For <see cref="TokenFaultKind.Delay"/>: how long to wait (on <see cref="SandboxOptions.TimeProvider"/>).</param>
public sealed record TokenFault(TokenFaultKind Kind, int StatusCode = 503, TimeSpan DelayBy = default)
{
    /// <summary>A 5xx answer.</summary>
    public static TokenFault ServerError(int statusCode = 503)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 500);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        return new TokenFault(TokenFaultKind.ServerError, statusCode);
    }

    /// <summary>A slow answer.</summary>
    public static TokenFault Delay(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return new TokenFault(TokenFaultKind.Delay, DelayBy: delay);
    }

    /// <summary>A broken JSON body.</summary>
    public static TokenFault MalformedJson() => new(TokenFaultKind.MalformedJson);

    /// <summary>A dropped connection.</summary>
    public static TokenFault DropConnection() => new(TokenFaultKind.DropConnection);
}

/// <summary>
/// Which token requests fail, and how. <see cref="ForLogin"/> is asked first, with the authorize request behind the
/// presented code or refresh token; otherwise <see cref="RandomFault"/> strikes a <see cref="Share"/> of requests,
/// drawn from a <see cref="Random"/> seeded with <see cref="Seed"/> so a run can be reproduced.
/// </summary>
public sealed class TokenFaultPlan
{
    private readonly Lock _gate = new();
    private readonly Random _random;

    /// <summary>Creates a plan.</summary>
    /// <param name="randomFault">The fault for the random share, or <c>null</c> for none.</param>
    /// <param name="share">Fraction of requests struck by <paramref name="randomFault"/>, 0 to 1.</param>
    /// <param name="seed">Seed of the random draw.</param>
    /// <param name="forLogin">Chooses a fault per login (by its authorize request, e.g. its <c>login_hint</c>), or <c>null</c>.</param>
    public TokenFaultPlan(TokenFault? randomFault = null, double share = 0, int seed = 8, Func<AuthorizeRequestInfo, TokenFault?>? forLogin = null)
    {
        if (share is < 0 or > 1 || double.IsNaN(share))
        {
            throw new ArgumentOutOfRangeException(nameof(share), share, "Share must be between 0 and 1.");
        }

        RandomFault = randomFault;
        Share = share;
        Seed = seed;
        ForLogin = forLogin;
        _random = new Random(seed);
    }

    /// <summary>The fault for the random share.</summary>
    public TokenFault? RandomFault { get; }

    /// <summary>Fraction of requests struck by <see cref="RandomFault"/>.</summary>
    public double Share { get; }

    /// <summary>Seed of the random draw.</summary>
    public int Seed { get; }

    /// <summary>Per-login choice.</summary>
    public Func<AuthorizeRequestInfo, TokenFault?>? ForLogin { get; }

    /// <summary>A plan that strikes <paramref name="share"/> of all token requests with <paramref name="fault"/>.</summary>
    public static TokenFaultPlan Random(TokenFault fault, double share, int seed = 8) => new(fault, share, seed);

    /// <summary>A plan that strikes the logins <paramref name="choose"/> picks.</summary>
    public static TokenFaultPlan PerLogin(Func<AuthorizeRequestInfo, TokenFault?> choose) => new(forLogin: choose);

    internal TokenFault? Choose(AuthorizeRequestInfo? login)
    {
        if (login is not null && ForLogin?.Invoke(login) is { } chosen)
        {
            return chosen;
        }

        if (RandomFault is null || Share <= 0)
        {
            return null;
        }

        lock (_gate)
        {
            return _random.NextDouble() < Share ? RandomFault : null;
        }
    }
}
