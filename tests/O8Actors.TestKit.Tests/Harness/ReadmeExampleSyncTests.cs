using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>The "Testing your flows" example in the docs (and the README, once pasted there) is the code CI runs.</summary>
public sealed class ReadmeExampleSyncTests
{
    [Fact]
    public void The_documented_example_is_the_tested_example()
    {
        var root = RepositoryFiles.Root();
        var tested = File.ReadAllText(Path.Combine(root, "tests", "O8Actors.TestKit.Tests", "ReadmeExampleTests.cs")).ReplaceLineEndings("\n");
        var example = tested[tested.IndexOf("using O8Actors;", StringComparison.Ordinal)..].TrimEnd();

        var docs = File.ReadAllText(Path.Combine(root, "docs", "testing-your-flows.md")).ReplaceLineEndings("\n");
        Assert.Contains(example, docs);

        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        if (readme.Contains("## Testing your flows", StringComparison.Ordinal))
            Assert.Contains(example, readme);
    }
}
