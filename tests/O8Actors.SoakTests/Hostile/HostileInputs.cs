using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using O8Actors.SoakTests.Support;
using static O8Actors.SoakTests.Hostile.HostileCase;

namespace O8Actors.SoakTests.Hostile;

/// <summary>
/// The bad inputs of the hostile-callback suite. Many carry the state of a live login: none of them may touch it.
/// </summary>
internal static class HostileInputs
{
    /// <summary>A state no login owns (same shape as a real one: 256 random bits, base64url).</summary>
    public static string RandomState() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <param name="http">The raw client (its port is in the default Host header).</param>
    /// <param name="path">The provider's redirect path, where the live login's callback belongs.</param>
    /// <param name="callbackRoot">The listener's callback path; every path under it is another provider's, where a
    /// genuine state ends its login as a mix-up (so these inputs use paths outside it).</param>
    /// <param name="live">A live login whose state the inputs abuse; it must stay untouched.</param>
    /// <param name="expired">A login that already timed out (its callback URL is still a real one).</param>
    /// <param name="replayed">A login that already completed (its callback URL was used once).</param>
    public static IReadOnlyList<HostileCase> Build(RawHttp http, string path, string callbackRoot, PendingLogin live, PendingLogin expired,
        PendingLogin replayed)
    {
        var l = live.State;
        var iss = Uri.EscapeDataString(live.Issuer);
        var unknown = RandomState();
        var xss = Uri.EscapeDataString("<script>alert(document.cookie)</script><img src=x onerror=alert(1)>");
        HostileCase Get(string name, string target, int status, string? page, string method = "GET", string? host = null, string? headers = null) =>
            HostileCase.Get(http, name, target, status, page, method, host, headers);

        var cases = new List<HostileCase>
        {
            Get("no query", path, 400, Malformed),
            Get("empty query", path + "?", 400, Malformed),
            Get("query of separators only", path + "?&&&=&", 400, Malformed),
            Get("no state", $"{path}?code=abc&iss={iss}", 400, Malformed),
            Get("empty state", $"{path}?state=&code=abc", 400, Malformed),
            Get("unknown state", $"{path}?state={unknown}&code=abc&iss={iss}", 400, UnknownState),
            Get("expired state", expired.Target, 400, UnknownState),
            Get("replayed state", replayed.Target, 400, UnknownState),
            Get("truncated live state", $"{path}?state={l[..^1]}&code=abc&iss={iss}", 400, UnknownState),
            Get("live state with a suffix", $"{path}?state={l}x&code=abc&iss={iss}", 400, UnknownState),
            Get("live state in another case", $"{path}?state={l.ToUpperInvariant()}{(l == l.ToUpperInvariant() ? "a" : "")}&code=abc", 400, UnknownState),
            Get("state twice with different values", $"{path}?state={l}&state={unknown}&code=abc&iss={iss}", 400, Malformed),
            Get("state twice with the same value", $"{path}?state={l}&state={l}&code=abc&iss={iss}", 400, Malformed),
            Get("code missing", $"{path}?state={l}&iss={iss}", 400, Malformed),
            Get("code empty", $"{path}?state={l}&code=&iss={iss}", 400, Malformed),
            Get("code twice", $"{path}?state={l}&code=abc&code=def&iss={iss}", 400, Malformed),
            Get("code 100 KB long", $"{path}?state={l}&code={new string('c', 100 * 1024)}&iss={iss}", 414, null),
            Get("code 6 KB long, unknown state", $"{path}?state={unknown}&code={new string('c', 6 * 1024)}", 400, UnknownState),
            Get("invalid percent-encoding", $"{path}?state=%ZZ%&code=%G1&iss={iss}", 400, UnknownState),
            Get("live state with a broken escape", $"{path}?state={l}%2&code=abc&iss={iss}", 400, UnknownState),
            Get("invalid UTF-8 (escaped)", $"{path}?state=%C3%28%FF%FE&code=%80&iss={iss}", 400, UnknownState),
            Get("NUL and control characters", $"{path}?state=%00%0D%0A{l}&code=abc", 400, UnknownState),
            Get("percent-encoded parameter name", $"{path}?st%61te={l}&code=abc&iss={iss}", 400, Malformed),
            Get("semicolon separators", $"{path}?state={l};code=abc;iss={iss}", 400, Malformed),
            Get("plus in state", $"{path}?state={l}+&code=abc", 400, UnknownState),
            Get("error with HTML/JS, unknown state", $"{path}?state={unknown}&error=access_denied&error_description={xss}", 400, UnknownState),
            Get("error twice", $"{path}?state={l}&error=access_denied&error=server_error", 400, Malformed),
            Get("iss twice", $"{path}?state={l}&code=abc&iss={iss}&iss=https%3A%2F%2Fevil.example", 400, Malformed),
            Get("wrong path", $"{callbackRoot}x?state={l}&code=abc&iss={iss}", 404, NotFound),
            Get("path in upper case", $"{path.ToUpperInvariant()}?state={l}&code=abc", 404, NotFound),
            Get("callback path with a trailing slash", $"{callbackRoot}/?state={l}&code=abc", 404, NotFound),
            Get("path traversal", $"/x/..%2F..{path}?state={l}&code=abc", 404, NotFound),
            Get("favicon.ico", "/favicon.ico", 404, NotFound),
            Get("robots.txt", "/robots.txt", 404, NotFound),
            Get("HEAD", $"{path}?state={l}&code=abc&iss={iss}", 405, MethodNotAllowed, method: "HEAD"),
            Get("POST", $"{path}?state={l}&code=abc&iss={iss}", 405, MethodNotAllowed, method: "POST", headers: "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\n"),
            Get("OPTIONS", $"{path}?state={l}&code=abc", 405, MethodNotAllowed, method: "OPTIONS"),
            Get("PUT", $"{path}?state={l}&code=abc", 405, MethodNotAllowed, method: "PUT", headers: "Content-Length: 0\r\n"),
            Get("Host evil.example", $"{path}?state={l}&code=abc&iss={iss}", 400, HostNotLoopback, host: "evil.example"),
            Get("Host localhost.evil.example", $"{path}?state={l}&code=abc&iss={iss}", 400, HostNotLoopback, host: $"localhost.evil.example:{http.Port}"),
            Get("Host unbracketed IPv6", $"{path}?state={l}&code=abc", 400, null, host: $"::1:{http.Port}"),
            Get("1 MB query", $"{path}?state={l}&code=abc&pad={new string('p', 1024 * 1024)}", 414, null),
            Get("request line over the limit", $"{path}{new string('/', 1)}{new string('a', 9 * 1024)}", 414, null),
            Get("headers over the limit", $"{path}?state={l}&code=abc", 431, null, headers: $"Cookie: {new string('k', 40 * 1024)}\r\n"),
        };

        // A POST body and a bodyless request line without a Host header are built by hand.
        cases[cases.FindIndex(c => c.Name == "POST")] = cases.Find(c => c.Name == "POST")! with
        {
            Request = [.. cases.Find(c => c.Name == "POST")!.Request, .. "code=abc"u8],
        };
        cases.Add(new HostileCase("HTTP/1.1 without Host", Encoding.ASCII.GetBytes($"GET {path}?state={l}&code=abc HTTP/1.1\r\nConnection: close\r\n\r\n"), 400, null));
        cases.Add(new HostileCase("HTTP/1.0 without Host", Encoding.ASCII.GetBytes($"GET {path}?state={l}&code=abc HTTP/1.0\r\n\r\n"), 400, HostNotLoopback));
        cases.Add(new HostileCase("raw non-UTF-8 bytes in the query",
            [.. Encoding.ASCII.GetBytes($"GET {path}?state="), 0xFF, 0xFE, 0xC3, 0x28, .. Encoding.ASCII.GetBytes($"&code=abc HTTP/1.1\r\nHost: localhost:{http.Port}\r\nConnection: close\r\n\r\n")],
            400, null));
        cases.Add(new HostileCase("not HTTP at all", Encoding.ASCII.GetBytes("\x16\x03\x01 hello, this is not a request\r\n\r\n"), 400, null));
        return cases;
    }
}
