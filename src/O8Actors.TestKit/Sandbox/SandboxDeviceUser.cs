namespace O8Actors.TestKit.Sandbox;

/// <summary>What the scripted user of a device login does (RFC 8628), once the login has polled a few times.</summary>
public enum SandboxDeviceUserKind
{
    /// <summary>Enters the code and approves: the next poll gets tokens.</summary>
    Approve,

    /// <summary>Enters the code and refuses: the next poll gets <c>access_denied</c>.</summary>
    Deny,

    /// <summary>The code expires at once: the next poll gets <c>expired_token</c>.</summary>
    Expire,

    /// <summary>
    /// Never answers: every poll gets <c>authorization_pending</c> until the code's lifetime
    /// (<see cref="SandboxOptions.DeviceCodeLifetime"/>, on <see cref="SandboxOptions.TimeProvider"/>) has passed, then
    /// <c>expired_token</c>. The client's own deadline (the code's <c>expires_in</c>) normally ends the login first.
    /// </summary>
    LetExpire,
}

/// <summary>The script of one device login's user, returned by <see cref="SandboxOptions.DeviceUsers"/>.</summary>
/// <param name="Kind">What the user does in the end.</param>
/// <param name="PendingPolls">How many polls come before the user's answer (default 1): each gets <c>authorization_pending</c>,
/// or <c>slow_down</c> for the first <paramref name="SlowDowns"/> of them.</param>
/// <param name="SlowDowns">How many of the first polls get <c>slow_down</c> (the user is slow and the client must back off);
/// at most <paramref name="PendingPolls"/>.</param>
/// <param name="Subject">For <see cref="SandboxDeviceUserKind.Approve"/>: the user id (<c>sub</c>); default the login hint or <c>sandbox-user</c>.</param>
public sealed record SandboxDeviceUser(SandboxDeviceUserKind Kind, int PendingPolls = 1, int SlowDowns = 0, string? Subject = null)
{
    /// <summary>Approves after <paramref name="pendingPolls"/> pending polls.</summary>
    public static SandboxDeviceUser Approve(string? subject = null, int pendingPolls = 1) => new(SandboxDeviceUserKind.Approve, pendingPolls, 0, subject);

    /// <summary>Refuses after <paramref name="pendingPolls"/> pending polls.</summary>
    public static SandboxDeviceUser Deny(int pendingPolls = 1) => new(SandboxDeviceUserKind.Deny, pendingPolls);

    /// <summary>Lets the code expire after <paramref name="pendingPolls"/> pending polls (<c>expired_token</c>).</summary>
    public static SandboxDeviceUser Expire(int pendingPolls = 1) => new(SandboxDeviceUserKind.Expire, pendingPolls);

    /// <summary>Never answers; the code runs out.</summary>
    public static SandboxDeviceUser LetExpire { get; } = new(SandboxDeviceUserKind.LetExpire, int.MaxValue);

    /// <summary>Acts slowly: the first <paramref name="slowDowns"/> polls get <c>slow_down</c>, then the user approves.</summary>
    public static SandboxDeviceUser ActSlowly(int slowDowns, string? subject = null) => new(SandboxDeviceUserKind.Approve, slowDowns, slowDowns, subject);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(PendingPolls, nameof(PendingPolls));
        ArgumentOutOfRangeException.ThrowIfNegative(SlowDowns, nameof(SlowDowns));
        if (SlowDowns > PendingPolls)
            throw new ArgumentException($"SlowDowns ({SlowDowns}) cannot exceed PendingPolls ({PendingPolls}).", nameof(SlowDowns));
    }
}

/// <summary>A valid device authorization request, as the test's script sees it (no secrets).</summary>
/// <param name="ClientId">The client.</param>
/// <param name="Scope">Requested scopes, space-separated.</param>
/// <param name="LoginHint">The <c>login_hint</c> parameter, if the client sent one (O8Actors sends a login's extra parameters).</param>
/// <param name="Parameters">Every form parameter but the client's credentials.</param>
public sealed record DeviceRequestInfo(string ClientId, string Scope, string? LoginHint, IReadOnlyDictionary<string, string> Parameters);

/// <summary>Ready-made device user scripts.</summary>
public static class SandboxDeviceUsers
{
    /// <summary>
    /// Chooses by <c>login_hint</c>, as <see cref="SandboxDecisions.ByLoginHint"/> does for browser logins: <c>deny…</c> →
    /// <see cref="SandboxDeviceUser.Deny"/>, <c>expire…</c> → <see cref="SandboxDeviceUser.Expire"/>, <c>hang…</c> →
    /// <see cref="SandboxDeviceUser.LetExpire"/>, <c>slow…</c> → <see cref="SandboxDeviceUser.ActSlowly"/> (two slow_downs);
    /// anything else approves with the hint as subject.
    /// </summary>
    public static SandboxDeviceUser ByLoginHint(DeviceRequestInfo request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var hint = request.LoginHint ?? string.Empty;
        if (hint.StartsWith("deny", StringComparison.OrdinalIgnoreCase)) return SandboxDeviceUser.Deny();
        if (hint.StartsWith("expire", StringComparison.OrdinalIgnoreCase)) return SandboxDeviceUser.Expire();
        if (hint.StartsWith("hang", StringComparison.OrdinalIgnoreCase)) return SandboxDeviceUser.LetExpire;
        if (hint.StartsWith("slow", StringComparison.OrdinalIgnoreCase)) return SandboxDeviceUser.ActSlowly(2, hint);
        return SandboxDeviceUser.Approve(hint.Length > 0 ? hint : null);
    }
}
