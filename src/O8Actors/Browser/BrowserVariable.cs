namespace O8Actors.Browser;

/// <summary>
/// The <c>$BROWSER</c> variable (the xdg convention): a list of commands separated by the path separator, each a program
/// and its arguments separated by spaces, <c>%s</c> marking where the URL goes.
/// </summary>
internal static class BrowserVariable
{
    /// <summary>The commands of <paramref name="value"/>, each as its words (the program first); empty entries left out.</summary>
    public static IEnumerable<string[]> Commands(string value) =>
        value.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(entry => entry.Split(' ', StringSplitOptions.RemoveEmptyEntries));
}
