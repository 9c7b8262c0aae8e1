using System.Collections.Concurrent;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit;

/// <summary>
/// The scripts of the logins in flight, keyed by the tag the harness puts in <c>login_hint</c>. The sandbox's
/// decision function, its device users, the scripted browser and the token-fault plan all read it, so each part plays
/// the same script, whether the login runs in a browser or as a device login.
/// Logins without a tag of this kit fall back to <see cref="SandboxDecisions.ByLoginHint"/> and an <c>abandon…</c> hint;
/// a login with a tag whose script is no longer held is refused. A script is forgotten once the last login that plays it
/// has ended (<see cref="Forget"/>), so a long-lived harness does not grow.
/// </summary>
internal sealed class ScriptBook
{
    /// <summary>Prefix of every tag, so tags never collide with a user's own hints.</summary>
    public const string TagPrefix = "o8tk-";

    private readonly ConcurrentDictionary<string, LoginScript> _scripts = new(StringComparer.Ordinal);
    // The logins whose method a caller watches (RunAsync, for its result's expected outcome), by tag.
    private readonly ConcurrentDictionary<string, MethodMark> _watched = new(StringComparer.Ordinal);
    private long _next;

    /// <summary>
    /// Reads the <c>login_hint</c> of a pushed request by its <c>request_uri</c>, leaving it unredeemed; set once the
    /// sandbox runs. With PAR (RFC 9126) the authorize URL the browser gets carries only <c>client_id</c> and
    /// <c>request_uri</c>, so the tag is found only in what was pushed.
    /// </summary>
    public Func<string, string?>? PushedLoginHint { get; set; }

    /// <summary>Registers <paramref name="script"/> under a fresh tag and returns the tag.</summary>
    public string Add(LoginScript script)
    {
        var tag = $"{TagPrefix}{Interlocked.Increment(ref _next)}-{script.Fate.ToString().ToLowerInvariant()}";
        _scripts[tag] = script;
        return tag;
    }

    /// <summary>How many scripts are held (for tests that a long-lived harness forgets those of ended logins).</summary>
    public int Count => _scripts.Count;

    /// <summary>Whether <paramref name="tag"/> names a script still held.</summary>
    public bool Holds(string tag) => _scripts.ContainsKey(tag);

    /// <summary>Forgets the script of an ended login. All the book holds of a login is its script, kept under its tag.</summary>
    public void Forget(string tag)
    {
        _scripts.TryRemove(tag, out _);
        _watched.TryRemove(tag, out _);
    }

    /// <summary>
    /// Watches whether the login of <paramref name="tag"/>, not yet started, asks for a device code (so it runs as a
    /// device login). The caller holds the mark: the login's end forgets its tag (<see cref="ScriptRetirement"/>), maybe
    /// before the caller reads it.
    /// </summary>
    public MethodMark WatchMethod(string tag) => _watched[tag] = new MethodMark();

    public LoginScript? Find(string? tag) => tag is not null && _scripts.TryGetValue(tag, out var script) ? script : null;

    /// <summary>Whether <paramref name="hint"/> is a tag of this kit's whose script is no longer held (its login ended).</summary>
    public bool IsSpent(string? hint) => hint is not null && hint.StartsWith(TagPrefix, StringComparison.Ordinal) && !_scripts.ContainsKey(hint);

    /// <summary>
    /// Notes that a login was started with the spent tag <paramref name="tag"/> (the test used one request for a second
    /// login after the first had ended). That login must not fall back to the hint rules (a spent <c>...-deny</c> tag
    /// approved, and signed in a user named after the tag): it is refused, saying why. A browser that reaches the
    /// sandbox late for the ended login itself (after its deadline) is not such a login, and is answered as before.
    /// </summary>
    public void MarkReused(string tag) => _reused[tag] = true;

    private bool IsReused(string? hint) => hint is not null && _reused.ContainsKey(hint);

    private readonly ConcurrentDictionary<string, bool> _reused = new(StringComparer.Ordinal);

    /// <summary>What the sandbox answers a login started with a spent tag (<see cref="MarkReused"/>).</summary>
    internal const string SpentTagDescription =
        "O8Actors.TestKit: this request's script was played by a login that has ended; make one o8.Request(script) per login";

    public SandboxDecision Decide(AuthorizeRequestInfo request) =>
        Find(request.LoginHint) is { } script ? script.Decision(request.LoginHint!)
        : IsReused(request.LoginHint) ? SandboxDecision.Deny(SpentTagDescription, "invalid_request")
        : SandboxDecisions.ByLoginHint(request);

    public BrowserAction BrowserScript(Uri authorizeUrl)
    {
        var hint = LoginHintOf(authorizeUrl);
        if (Find(hint) is { } script) return script.BrowserAction;
        // A reused tag goes on to the sandbox, whose refusal names the cause (see Decide).
        return hint is not null && hint.StartsWith("abandon", StringComparison.OrdinalIgnoreCase) ? BrowserAction.Abandon : BrowserAction.Approve;
    }

    /// <summary>A device login's user plays its script as a browser login's would (the tag comes as its <c>login_hint</c>).</summary>
    public SandboxDeviceUser DeviceUser(DeviceRequestInfo request)
    {
        // A device code is asked for as its login starts, so a spent tag here is a new login's (no late visit of an ended
        // one, as a browser's may be); this also needs no wait for the login's start event (MarkReused).
        if (IsSpent(request.LoginHint)) return SandboxDeviceUser.Deny();
        if (Find(request.LoginHint) is not { } script) return SandboxDeviceUsers.ByLoginHint(request);
        if (_watched.TryGetValue(request.LoginHint!, out var mark)) mark.DeviceCodeAsked();
        return script.DeviceUser(request.LoginHint!);
    }

    public TokenFault? FaultFor(AuthorizeRequestInfo login) => Find(login.LoginHint)?.TokenFaultToInject;

    private string? LoginHintOf(Uri authorizeUrl)
    {
        var query = QueryHelpers.ParseQuery(authorizeUrl.Query);
        if (query.TryGetValue("login_hint", out var hint)) return hint.ToString();
        // Read once, by the scripted browser before it redeems the request_uri; nothing here needs it afterwards.
        return query.TryGetValue("request_uri", out var requestUri) ? PushedLoginHint?.Invoke(requestUri.ToString()) : null;
    }
}

/// <summary>Whether a login asked the sandbox for a device code: it runs as a device login (RFC 8628), not in a browser.</summary>
internal sealed class MethodMark
{
    private volatile bool _device;

    public LoginMethod Method => _device ? LoginMethod.Device : LoginMethod.Browser;

    public void DeviceCodeAsked() => _device = true;
}
