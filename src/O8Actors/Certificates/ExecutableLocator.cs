namespace O8Actors.Certificates;

/// <summary>
/// Finds a program on <c>PATH</c> the way a shell would (with <c>PATHEXT</c> on Windows), but only in absolute folders
/// and, on Windows, only as an .exe or .com file.
/// </summary>
internal static class ExecutableLocator
{
    /// <summary>The full path of <paramref name="name"/> on this process's <c>PATH</c>, or null.</summary>
    public static string? FindOnPath(string name) =>
        FindOnPath(name, Environment.GetEnvironmentVariable("PATH"), Environment.GetEnvironmentVariable("PATHEXT"),
            OperatingSystem.IsWindows());

    /// <summary>
    /// The full path of <paramref name="name"/> in the directories of <paramref name="path"/>, or null. Split out from
    /// the environment so tests can give their own PATH and play Windows on any OS.
    /// </summary>
    public static string? FindOnPath(string name, string? path, string? pathExt, bool windows)
    {
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(path)) return null;
        var extensions = windows ? WindowsExtensions(pathExt, name) : [""];
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // A quoted entry ("C:\Program Files\x") is legal on Windows; the quotes are not part of the name.
            var folder = directory.Trim('"');
            // A relative entry ("." or "bin") resolves against the current directory, which may be a folder someone else
            // filled (a cloned repository): a program planted there would run in the real one's place. Go refuses these too.
            if (folder.Length == 0 || !Path.IsPathFullyQualified(folder)) continue;
            foreach (var extension in extensions)
            {
                var candidate = Path.Combine(folder, name + extension);
                if (IsExecutableFile(candidate, windows)) return candidate;
            }
        }

        return null;
    }

    private static string[] WindowsExtensions(string? pathExt, string name)
    {
        var fromEnvironment = string.IsNullOrWhiteSpace(pathExt) ? ".COM;.EXE" : pathExt;
        var listed = fromEnvironment.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!Path.HasExtension(name)) return listed;
        // A name that already has an extension (mkcert.exe) is tried as given first, as cmd.exe does.
        var result = new string[listed.Length + 1];
        result[0] = "";
        Array.Copy(listed, 0, result, 1, listed.Length);
        return result;
    }

    /// <summary>
    /// An extension CreateProcess runs as a program itself. It runs a .bat or .cmd file through cmd.exe, which reads
    /// <c>&amp;</c> and <c>%</c> in the arguments (certificate paths, a URL) as commands and variables that .NET's quoting
    /// does not escape.
    /// </summary>
    internal static bool IsWindowsProgram(string extension) =>
        extension.Equals(".exe", StringComparison.OrdinalIgnoreCase) || extension.Equals(".com", StringComparison.OrdinalIgnoreCase);

    private static bool IsExecutableFile(string candidate, bool windows)
    {
        if (!File.Exists(candidate)) return false;
        if (windows) return IsWindowsProgram(Path.GetExtension(candidate));
        if (OperatingSystem.IsWindows()) return true;
        // A file without any execute bit on Unix would fail to start: keep looking, as a shell does.
        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(candidate) & anyExecute) != 0;
    }
}
