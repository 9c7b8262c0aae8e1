namespace O8Actors.TestKit.Tests.Support;

/// <summary>Files of the repository the tests run from (documentation the tests keep in step with the code).</summary>
public static class RepositoryFiles
{
    /// <summary>The folder holding O8Actors.sln, above the test's output folder.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "O8Actors.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException($"No O8Actors.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>The text of a file by its path from the root, with "\n" line endings.</summary>
    public static string ReadText(params string[] path) =>
        File.ReadAllText(Path.Combine([Root(), .. path])).ReplaceLineEndings("\n");
}
