using System.Reflection;
using System.Xml.Linq;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Packaging;

/// <summary>
/// O8Actors.TestKit ships no test framework (the xUnit packages add one), and no example brings one in: an app that
/// uses the sandbox for a demo must not get xUnit.
/// </summary>
public sealed class NoTestFrameworkTests
{
    [Fact]
    public void The_testkit_assembly_references_no_test_framework()
    {
        var references = typeof(O8TestHarness).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();

        Assert.Contains("Akka.TestKit", references);
        Assert.DoesNotContain(references, IsTestFramework);
    }

    [Theory]
    [InlineData("ParallelLogins")]
    [InlineData("OidcIssuer")]
    public void An_example_built_on_the_testkit_references_no_test_framework(string example)
    {
        var references = Assembly.Load(example).GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();

        Assert.Contains("O8Actors.TestKit", references);
        Assert.DoesNotContain(references, IsTestFramework);
    }

    [Fact]
    public void No_example_project_references_a_test_framework()
    {
        var examples = Directory.GetFiles(Path.Combine(RepositoryFiles.Root(), "examples"), "*.csproj", SearchOption.AllDirectories);

        Assert.NotEmpty(examples);
        foreach (var project in examples)
        {
            var references = XDocument.Load(project).Descendants()
                .Where(e => e.Name.LocalName is "PackageReference" or "ProjectReference")
                .Select(e => (Kind: e.Name.LocalName, Include: (string?)e.Attribute("Include") ?? ""))
                // A package id as written; a project by its file name ("../x/O8Actors.TestKit.csproj").
                .Select(r => r.Kind == "ProjectReference" ? Path.GetFileNameWithoutExtension(r.Include) : r.Include);
            Assert.DoesNotContain(references, r => IsTestFramework(r) || r.StartsWith("O8Actors.TestKit.Xunit", StringComparison.OrdinalIgnoreCase));
        }
    }

    private static bool IsTestFramework(string name) =>
        name.StartsWith("xunit", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Akka.TestKit.Xunit", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("nunit", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("MSTest", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Microsoft.NET.Test.Sdk", StringComparison.OrdinalIgnoreCase);
}
