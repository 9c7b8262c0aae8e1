namespace O8Actors.Hosting;

/// <summary>
/// The <c>name=value</c> pairs of one Cookie header value, split as the browser that wrote it joined them: on <c>;</c>
/// only, each piece trimmed of spaces and tabs, its name up to its first <c>=</c>, its value the rest, as sent (no
/// decoding). A piece without <c>=</c>, or with nothing before it, is skipped. One pass, each character looked at once.
/// </summary>
/// <remarks>
/// The browser's split is the rule for which cookies it sent, so it is the one applied, and stated here rather than
/// left to <c>CookieHeaderValue.TryParseList</c>, used before: that parser follows RFC 6265's stricter server grammar
/// (cookie-octets only, <c>,</c> a list separator) and drops a piece it finds malformed whole. On ASP.NET Core 10 that
/// keeps a pair inside another cookie's value (<c>o8x=1,__Host-o8-login-X=S</c>, <c>o8x=1 __Host-o8-login-X=S</c>,
/// which a sibling subdomain can plant: a browser keeps <c>,</c>, spaces and <c>=</c> in a value) out too, but by its
/// error recovery, not by a rule anything here stated or tested; and it ran again for each look at the header.
/// </remarks>
internal ref struct CookiePairs(string? header)
{
    private ReadOnlySpan<char> _rest = header;
    private bool _done = header is null;

    /// <summary>The current pair's name, as sent.</summary>
    public ReadOnlySpan<char> Name { get; private set; }

    /// <summary>The current pair's value, as sent.</summary>
    public ReadOnlySpan<char> Value { get; private set; }

    /// <summary>Moves to the next pair; false when the header has no more.</summary>
    public bool MoveNext()
    {
        while (!_done)
        {
            var end = _rest.IndexOf(';');
            var piece = (end < 0 ? _rest : _rest[..end]).Trim(Whitespace);
            if (end < 0) _done = true;
            else _rest = _rest[(end + 1)..];
            // A browser sends a nameless cookie as its value alone: no pair anyone here looks for.
            var equals = piece.IndexOf('=');
            if (equals <= 0) continue;
            Name = piece[..equals];
            Value = piece[(equals + 1)..];
            return true;
        }
        return false;
    }

    /// <summary>What a browser puts around a pair (RFC 6265 section 5.4 joins pairs with <c>"; "</c>): SP and HTAB.</summary>
    private const string Whitespace = " \t";
}
