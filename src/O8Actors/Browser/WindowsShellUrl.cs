namespace O8Actors.Browser;

/// <summary>
/// The form of a URL handed to an opener under WSL. There the openers reach the Windows browser through a shell:
/// <c>wslview</c> (from wslu, and <c>xdg-open</c> where it hands over to it) runs <c>powershell.exe -Command "Start \"url\""</c>,
/// and inside that double-quoted string PowerShell expands <c>$name</c> and runs <c>$(…)</c>. An authorization server
/// writes its own endpoint's path and query (its metadata, a preset's URL, an <see cref="OAuthFlow"/>'s <c>AuthUrl</c>),
/// and <see cref="Uri.AbsoluteUri"/> leaves <c>$</c> as it is, so an endpoint such as <c>https://as.example/a/$(iex(irm …))</c>
/// would run code on the Windows host. O8Actors escapes every value it adds itself; what is left is made inert here.
/// </summary>
internal static class WindowsShellUrl
{
    /// <summary>
    /// <paramref name="url"/> with every <c>$</c> percent-encoded (<c>%24</c>, which servers decode as <c>$</c> in a query
    /// value) and a non-ASCII host in its ASCII (punycode) form, so that nothing in it is special to PowerShell: the
    /// other characters it expands inside double quotes (<c>"</c>, <c>`</c>, the typographic quotes) reach this escaped
    /// already in <see cref="Uri.AbsoluteUri"/>.
    /// </summary>
    public static string Of(Uri url)
    {
        var text = url.AbsoluteUri;
        if (!url.Host.All(char.IsAscii)) text = new UriBuilder(url) { Host = url.IdnHost }.Uri.AbsoluteUri;
        return text.Replace("$", "%24", StringComparison.Ordinal);
    }
}
