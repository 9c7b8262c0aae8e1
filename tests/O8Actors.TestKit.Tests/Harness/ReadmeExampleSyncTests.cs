using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// The "Testing your flows" example in docs/testing-your-flows.md is the code CI runs, and the README's section of that
/// name points there instead of keeping a second copy that would drift.
/// </summary>
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
        var start = readme.IndexOf("\n## Testing your flows\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "the README keeps its \"Testing your flows\" section");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)];
        Assert.Contains("](docs/testing-your-flows.md)", section, StringComparison.Ordinal);
        Assert.DoesNotContain("public sealed class ReadmeExampleTests", readme, StringComparison.Ordinal);
    }

    /// <summary>The xUnit packages' READMEs, shipped in the packages, show the examples their test projects compile and run.</summary>
    [Theory]
    [InlineData("O8Actors.TestKit.Xunit2", "O8Actors.TestKit.Tests")]
    [InlineData("O8Actors.TestKit.Xunit", "O8Actors.TestKit.Xunit.Tests")]
    public void A_packages_readme_example_is_the_one_its_tests_run(string package, string testProject)
    {
        var root = RepositoryFiles.Root();
        var tested = File.ReadAllText(Path.Combine(root, "tests", testProject, "PackageReadmeExampleTests.cs")).ReplaceLineEndings("\n");
        var example = tested[tested.IndexOf("using O8Actors;", StringComparison.Ordinal)..].TrimEnd();

        var readme = File.ReadAllText(Path.Combine(root, "src", package, "README.md")).ReplaceLineEndings("\n");

        Assert.Contains(example, readme);
    }
}
