namespace O8Actors.IntegrationTests.Infrastructure;

/// <summary>Finds programs the interop tests run (node, chromium, mkcert) on PATH.</summary>
public static class ExecutableLocator
{
    /// <summary>The full path of the first of <paramref name="names"/> found on PATH (or given as an absolute path), else null.</summary>
    public static string? Find(params string[] names)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var name in names)
        {
            if (Path.IsPathRooted(name))
            {
                if (File.Exists(name)) return name;
                continue;
            }

            foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        }

        return null;
    }

    /// <summary>Like <see cref="Find"/>, but throws with <paramref name="howToInstall"/> when nothing is found.</summary>
    /// <exception cref="InvalidOperationException">None of the names is installed.</exception>
    public static string Require(string howToInstall, params string[] names) =>
        Find(names) ?? throw new InvalidOperationException(
            $"None of [{string.Join(", ", names)}] was found on PATH. {howToInstall}");
}
