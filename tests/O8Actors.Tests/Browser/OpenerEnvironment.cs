namespace O8Actors.Tests.Browser;

/// <summary>Environment lookups for <see cref="O8Actors.Browser.SystemBrowserLauncher"/> tests.</summary>
internal static class OpenerEnvironment
{
    /// <summary>This process's environment without <c>$BROWSER</c>: the openers a test names are found on the real PATH.</summary>
    public static string? WithoutBrowser(string name) => name == "BROWSER" ? null : Environment.GetEnvironmentVariable(name);
}
