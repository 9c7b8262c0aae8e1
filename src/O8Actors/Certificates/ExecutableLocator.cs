namespace O8Actors.Certificates;

/// <summary>Finds a program on <c>PATH</c> the way a shell would (with <c>PATHEXT</c> on Windows).</summary>
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
            if (folder.Length == 0) continue;
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
        var fromEnvironment = string.IsNullOrWhiteSpace(pathExt) ? ".COM;.EXE;.BAT;.CMD" : pathExt;
        var listed = fromEnvironment.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!Path.HasExtension(name)) return listed;
        // A name that already has an extension (mkcert.exe) is tried as given first, as cmd.exe does.
        var result = new string[listed.Length + 1];
        result[0] = "";
        Array.Copy(listed, 0, result, 1, listed.Length);
        return result;
    }

    private static bool IsExecutableFile(string candidate, bool windows)
    {
        if (!File.Exists(candidate)) return false;
        if (windows || OperatingSystem.IsWindows()) return true;
        // A file without any execute bit on Unix would fail to start: keep looking, as a shell does.
        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(candidate) & anyExecute) != 0;
    }
}
