using System.Collections.Concurrent;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit;

/// <summary>
/// The scripts of the logins in flight, keyed by the tag the harness puts in <c>login_hint</c>. The sandbox's
/// decision function, its device users, the scripted browser and the token-fault plan all read it, so each part plays
/// the same script, whether the login runs in a browser or as a device login.
/// Logins without a tag of this kit fall back to <see cref="SandboxDecisions.ByLoginHint"/> and an <c>abandon…</c> hint.
/// A script is forgotten once the last login that plays it has ended (<see cref="Forget"/>), so a long-lived harness does
/// not grow; the last <see cref="RetiredScriptsKept"/> forgotten ones are still played, by a browser that reaches the
/// sandbox late for its ended login and by a login started again from the same request, and a tag older than those is
/// refused, saying why (it never falls back to the hint rules: a spent <c>...-deny</c> tag approved, and signed in a user
/// named after the tag).
/// </summary>
internal sealed class ScriptBook(int retiredScriptsKept = ScriptBook.RetiredScriptsKept)
{
    /// <summary>Prefix of every tag, so tags never collide with a user's own hints.</summary>
    public const string TagPrefix = "o8tk-";

    /// <summary>How many forgotten scripts are still played (a few hundred bytes each).</summary>
    public const int RetiredScriptsKept = 1024;

    private readonly ConcurrentDictionary<string, LoginScript> _scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LoginScript> _retired = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _retiredOrder = new();
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

    /// <summary>
    /// Forgets the script of an ended login (all the book holds of a login is its script, kept under its tag), keeping it
    /// among the last <see cref="RetiredScriptsKept"/> retired ones.
    /// </summary>
    public void Forget(string tag)
    {
        _watched.TryRemove(tag, out _);
        if (!_scripts.TryRemove(tag, out var script)) return;
        _retired[tag] = script;
        _retiredOrder.Enqueue(tag);
        while (_retiredOrder.Count > retiredScriptsKept && _retiredOrder.TryDequeue(out var oldest)) _retired.TryRemove(oldest, out _);
    }

    /// <summary>
    /// Watches whether the login of <paramref name="tag"/>, not yet started, asks for a device code (so it runs as a
    /// device login). The caller holds the mark: the login's end forgets its tag (<see cref="ScriptRetirement"/>), maybe
    /// before the caller reads it.
    /// </summary>
    public MethodMark WatchMethod(string tag) => _watched[tag] = new MethodMark();

    /// <summary>The script of <paramref name="tag"/>: held, or among the last retired ones.</summary>
    public LoginScript? Find(string? tag) =>
        tag is null ? null : _scripts.TryGetValue(tag, out var script) || _retired.TryGetValue(tag, out script) ? script : null;

    /// <summary>Whether <paramref name="hint"/> is a tag of this kit's whose script is no longer known (retired long ago).</summary>
    private bool IsSpent(string? hint) => hint is not null && hint.StartsWith(TagPrefix, StringComparison.Ordinal) && Find(hint) is null;

    /// <summary>What the sandbox answers a login with a spent tag (<see cref="IsSpent"/>).</summary>
    internal const string SpentTagDescription =
        "O8Actors.TestKit: this request's script was retired long ago (its login ended); make one o8.Request(script) per login";

    public SandboxDecision Decide(AuthorizeRequestInfo request) =>
        Find(request.LoginHint) is { } script ? script.Decision(request.LoginHint!)
        : IsSpent(request.LoginHint) ? SandboxDecision.Deny(SpentTagDescription, "invalid_request")
        : SandboxDecisions.ByLoginHint(request);

    public BrowserAction BrowserScript(Uri authorizeUrl)
    {
        var hint = LoginHintOf(authorizeUrl);
        if (Find(hint) is { } script) return script.BrowserAction;
        // A spent tag goes on to the sandbox, whose refusal names the cause (see Decide).
        return hint is not null && hint.StartsWith("abandon", StringComparison.OrdinalIgnoreCase) ? BrowserAction.Abandon : BrowserAction.Approve;
    }

    /// <summary>A device login's user plays its script as a browser login's would (the tag comes as its <c>login_hint</c>).</summary>
    public SandboxDeviceUser DeviceUser(DeviceRequestInfo request)
    {
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
