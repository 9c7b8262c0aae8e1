namespace O8Actors.TestKit.Tests.Harness;

/// <summary>The "Testing your flows" example in the docs (and the README, once pasted there) is the code CI runs.</summary>
public sealed class ReadmeExampleSyncTests
{
    [Fact]
    public void The_documented_example_is_the_tested_example()
    {
        var root = RepositoryRoot();
        var tested = File.ReadAllText(Path.Combine(root, "tests", "O8Actors.TestKit.Tests", "ReadmeExampleTests.cs")).ReplaceLineEndings("\n");
        var example = tested[tested.IndexOf("using O8Actors;", StringComparison.Ordinal)..].TrimEnd();

        var docs = File.ReadAllText(Path.Combine(root, "docs", "testing-your-flows.md")).ReplaceLineEndings("\n");
        Assert.Contains(example, docs);

        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        if (readme.Contains("## Testing your flows", StringComparison.Ordinal))
            Assert.Contains(example, readme);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "O8Actors.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException($"No O8Actors.sln above {AppContext.BaseDirectory}.");
    }
}
