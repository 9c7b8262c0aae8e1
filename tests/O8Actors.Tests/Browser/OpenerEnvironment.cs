namespace O8Actors.Tests.Browser;

/// <summary>Environment lookups for <see cref="O8Actors.Browser.SystemBrowserLauncher"/> tests.</summary>
internal static class OpenerEnvironment
{
    /// <summary>This process's environment without <c>$BROWSER</c>: the openers a test names are found on the real PATH.</summary>
    public static string? WithoutBrowser(string name) => name == "BROWSER" ? null : Environment.GetEnvironmentVariable(name);

    /// <summary>Writes a shell script a test plays a program with (an opener, a browser), executable by its owner.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static async Task WriteScriptAsync(string path, string body)
    {
        await File.WriteAllTextAsync(path, "#!/bin/sh\n" + body);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
