using System.Collections.Concurrent;
using Microsoft.AspNetCore.WebUtilities;
using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit;

/// <summary>
/// The scripts of the logins in flight, keyed by the tag the harness puts in <c>login_hint</c>. The sandbox's
/// decision function, the scripted browser and the token-fault plan all read it, so each part plays the same script.
/// Logins without a known tag fall back to <see cref="SandboxDecisions.ByLoginHint"/> and an <c>abandon…</c> hint.
/// A script is forgotten once its login has ended (<see cref="Forget"/>), so a long-lived harness does not grow.
/// </summary>
internal sealed class ScriptBook
{
    /// <summary>Prefix of every tag, so tags never collide with a user's own hints.</summary>
    public const string TagPrefix = "o8tk-";

    private readonly ConcurrentDictionary<string, LoginScript> _scripts = new(StringComparer.Ordinal);
    // The tags of pushed requests already looked up, by request_uri: the sandbox forgets a request_uri once the browser
    // redeems it, and the login's script must still be found by its URL afterwards, to be forgotten when it ends.
    private readonly ConcurrentDictionary<string, string> _pushedTags = new(StringComparer.Ordinal);
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

    /// <summary>How many scripts (and pushed requests' tags) are held (for tests that a long-lived harness forgets those of ended logins).</summary>
    public int Count => _scripts.Count + _pushedTags.Count;

    /// <summary>The tag of the login whose authorize URL is <paramref name="authorizeUrl"/>, when it plays a script.</summary>
    public string? TagOf(Uri authorizeUrl) => LoginHintOf(authorizeUrl) is { } hint && _scripts.ContainsKey(hint) ? hint : null;

    /// <summary>Forgets the script of an ended login and, when given, what was looked up for its authorize URL.</summary>
    public void Forget(string tag, Uri? authorizeUrl = null)
    {
        _scripts.TryRemove(tag, out _);
        if (authorizeUrl is not null && RequestUriOf(authorizeUrl) is { } requestUri) _pushedTags.TryRemove(requestUri, out _);
    }

    public LoginScript? Find(string? tag) => tag is not null && _scripts.TryGetValue(tag, out var script) ? script : null;

    public SandboxDecision Decide(AuthorizeRequestInfo request) =>
        Find(request.LoginHint) is { } script ? script.Decision(request.LoginHint!) : SandboxDecisions.ByLoginHint(request);

    public BrowserAction BrowserScript(Uri authorizeUrl)
    {
        var hint = LoginHintOf(authorizeUrl);
        if (Find(hint) is { } script) return script.BrowserAction;
        return hint is not null && hint.StartsWith("abandon", StringComparison.OrdinalIgnoreCase) ? BrowserAction.Abandon : BrowserAction.Approve;
    }

    public TokenFault? FaultFor(AuthorizeRequestInfo login) => Find(login.LoginHint)?.TokenFaultToInject;

    private string? LoginHintOf(Uri authorizeUrl)
    {
        var query = QueryHelpers.ParseQuery(authorizeUrl.Query);
        if (query.TryGetValue("login_hint", out var hint)) return hint.ToString();
        if (RequestUriOf(authorizeUrl) is not { } requestUri) return null;
        if (_pushedTags.TryGetValue(requestUri, out var tag)) return tag;
        if (PushedLoginHint?.Invoke(requestUri) is not { } pushed) return null;
        // Only a login this book scripts is remembered (and forgotten when it ends).
        if (_scripts.ContainsKey(pushed)) _pushedTags[requestUri] = pushed;
        return pushed;
    }

    private static string? RequestUriOf(Uri authorizeUrl) =>
        QueryHelpers.ParseQuery(authorizeUrl.Query).TryGetValue("request_uri", out var requestUri) ? requestUri.ToString() : null;
}
