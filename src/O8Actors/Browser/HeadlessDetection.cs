namespace O8Actors.Browser;

/// <summary>Whether this session can show a browser to the user: what <see cref="SystemBrowserLauncher"/> answers for <see cref="IBrowserAvailability"/>.</summary>
internal static class HeadlessDetection
{
    /// <summary>
    /// Why no browser can be opened, or null. An explicit <c>$BROWSER</c> is the user's own opener and counts as a browser,
    /// unless it names terminal browsers only (usual over SSH: the launcher passes them over and prints the URL). An SSH session (<c>SSH_CONNECTION</c> or <c>SSH_TTY</c>) opens a browser, if any, on the remote machine,
    /// never in front of the user. On Linux and the BSDs a browser needs a display (<c>DISPLAY</c> or <c>WAYLAND_DISPLAY</c>).
    /// </summary>
    /// <param name="environment">Environment lookup.</param>
    /// <param name="needsDisplay">Whether the platform needs a display server for a browser (Linux, FreeBSD).</param>
    public static string? Reason(Func<string, string?> environment, bool needsDisplay)
    {
        if (Set(environment, "BROWSER") && !NamesTerminalBrowsersOnly(environment("BROWSER")!)) return null;
        if (Set(environment, "SSH_CONNECTION")) return "an SSH session (SSH_CONNECTION is set): a browser would open on the remote machine";
        if (Set(environment, "SSH_TTY")) return "an SSH session (SSH_TTY is set): a browser would open on the remote machine";
        if (needsDisplay && !HasDisplay(environment))
            return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)";
        return null;
    }

    /// <summary>Whether this process runs in an SSH session (<c>SSH_CONNECTION</c> or <c>SSH_TTY</c>).</summary>
    public static bool IsSshSession(Func<string, string?> environment) => Set(environment, "SSH_CONNECTION") || Set(environment, "SSH_TTY");

    /// <summary>Whether this platform shows browsers only on a display server.</summary>
    public static bool PlatformNeedsDisplay => OperatingSystem.IsLinux() || OperatingSystem.IsFreeBSD();

    /// <summary>Whether a display server is named (<c>DISPLAY</c> or <c>WAYLAND_DISPLAY</c>).</summary>
    public static bool HasDisplay(Func<string, string?> environment) => Set(environment, "DISPLAY") || Set(environment, "WAYLAND_DISPLAY");

    /// <summary>
    /// Text browsers a <c>$BROWSER</c> list may name (<c>www-browser</c> is Debian's name for the chosen one). Run as an
    /// opener, with its input closed and its output drained, one shows nothing and may run on, or dumps the page and exits
    /// 0, counted as opened either way, while the login waits out its timeout.
    /// </summary>
    private static readonly HashSet<string> TerminalBrowsers =
        new(["lynx", "w3m", "links", "links2", "elinks", "browsh", "www-browser"], StringComparer.Ordinal);

    /// <summary>Whether <paramref name="program"/> (a name or a path) is a text browser.</summary>
    public static bool IsTerminalBrowser(string program) => TerminalBrowsers.Contains(Path.GetFileNameWithoutExtension(program));

    private static bool NamesTerminalBrowsersOnly(string browserVariable) =>
        BrowserVariable.Commands(browserVariable).All(words => IsTerminalBrowser(words[0]));

    private static bool Set(Func<string, string?> environment, string name) => !string.IsNullOrWhiteSpace(environment(name));
}
