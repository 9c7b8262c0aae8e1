using System.Text.RegularExpressions;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// docs/security.md names, for each attack, the tests that play it (<c>Class.Method</c>, then <c>.Method</c> for more of
/// the same class). A name that drifted (a renamed test, one filed under the wrong class) sends a reader to a test that
/// does not exist: each must be a method of a test class of that name.
/// </summary>
public sealed partial class SecurityDocTestNamesTests
{
    [Fact]
    public void Every_test_the_security_page_names_exists_in_its_class()
    {
        var root = RepositoryFiles.Root();
        var sources = Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText)
            .ToList();
        var page = File.ReadAllText(Path.Combine(root, "docs", "security.md"));

        var missing = new List<string>();
        var named = 0;
        // Line by line: a ".Method" belongs to the class named before it in the same row.
        foreach (var line in page.Split('\n'))
        {
            string? current = null;
            foreach (Match name in TestName().Matches(line))
            {
                current = name.Groups["class"].Success ? name.Groups["class"].Value : current;
                if (current is null) continue;
                named++;
                var method = name.Groups["method"].Value;
                var classPattern = new Regex($@"\bclass {Regex.Escape(current)}\b");
                var methodPattern = new Regex($@"\b{Regex.Escape(method)}\s*\(");
                if (!sources.Any(source => classPattern.IsMatch(source) && methodPattern.IsMatch(source)))
                    missing.Add($"{current}.{method}");
            }
        }

        Assert.True(named > 100, $"only {named} test names were read from docs/security.md");
        Assert.Empty(missing);
    }

    /// <summary>
    /// A backticked test name: <c>SomeTests.Method</c>, or <c>.Method</c> for another of the class named before it (test
    /// names begin with a capital; <c>.exe</c> is no test).
    /// </summary>
    [GeneratedRegex(@"`(?:(?<class>[A-Z][A-Za-z0-9_]*Tests))?\.(?<method>[A-Z][A-Za-z0-9_]*)`")]
    private static partial Regex TestName();
}
