using System.Text;
using O8Actors.SoakTests.Support;

namespace O8Actors.SoakTests.Hostile;

/// <summary>One bad input: the exact bytes sent, the status it must get, and the text of the page it must get.</summary>
/// <param name="Name">What it is, for failure messages.</param>
/// <param name="Request">The bytes on the wire (after TLS).</param>
/// <param name="Status">The expected status.</param>
/// <param name="Page">Text the listener's page must contain; <c>null</c> when Kestrel refuses the request before the listener sees it (no page).</param>
internal sealed record HostileCase(string Name, byte[] Request, int Status, string? Page)
{
    public const string Malformed = "This is not a valid sign-in redirect.";
    public const string UnknownState = "This sign-in link is unknown or already used.";
    public const string HostNotLoopback = "This address only answers requests for localhost.";
    public const string NotFound = "There is nothing here.";
    public const string MethodNotAllowed = "This address only accepts GET requests";

    public static HostileCase Get(RawHttp http, string name, string target, int status, string? page, string method = "GET",
        string? host = null, string? extraHeaders = null) =>
        new(name, Encoding.Latin1.GetBytes(http.Request(method, target, host, extraHeaders)), status, page);

    /// <summary>Null when <paramref name="response"/> is what this case expects, else why not.</summary>
    public string? Mismatch(RawResponse response)
    {
        if (response.Status != Status) return $"{Name}: expected HTTP {Status}, got {response}";
        if (Page is null) return response.Body.Contains("<html", StringComparison.Ordinal) ? $"{Name}: expected no page" : null;
        if (response.Header("Cache-Control") != "no-store") return $"{Name}: no Cache-Control: no-store";
        if (response.Header("Content-Security-Policy") is not { Length: > 0 } csp || !csp.Contains("default-src 'none'", StringComparison.Ordinal))
            return $"{Name}: no restrictive CSP";
        if (response.Header("Referrer-Policy") != "no-referrer") return $"{Name}: no Referrer-Policy";
        // HEAD gets the page's headers without its body.
        if (Request.AsSpan().StartsWith("HEAD "u8)) return response.Body.Length == 0 ? null : $"{Name}: HEAD answered with a body";
        return response.Body.Contains(Page, StringComparison.Ordinal) ? null : $"{Name}: page lacks \"{Page}\"";
    }

    public override string ToString() => Name;
}
