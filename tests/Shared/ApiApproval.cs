using System.Reflection;
using System.Text;
using PublicApiGenerator;
using Xunit;

namespace O8Actors.TestSupport;

/// <summary>
/// Public API approval: the API of a package, as PublicApiGenerator prints it, must equal the checked-in
/// <c>&lt;Spec&gt;.&lt;Test&gt;.approved.txt</c> next to the test. A change to the public API then shows up in review
/// as a change of that file, and nothing becomes public by accident.
/// <para>
/// On a difference the test writes <c>&lt;Spec&gt;.&lt;Test&gt;.received.txt</c> beside the approved file (ignored by
/// git) and fails with the differing lines. To accept a change, either copy the <c>.received.txt</c> over the
/// <c>.approved.txt</c>, or run the tests with <c>O8_APPROVE_API=1</c>, which writes every approved file from the
/// current build and passes:
/// <code>O8_APPROVE_API=1 dotnet test tests/O8Actors.ApiTests; O8_APPROVE_API=1 dotnet test tests/O8Actors.TestKit.Tests --filter ApiSpec</code>
/// </para>
/// One copy, linked into each test project that approves a package; the project names its folder of approved files
/// with the assembly metadata <c>O8ApprovedFolder</c> (set from <c>$(MSBuildProjectDirectory)</c> in its .csproj).
/// </summary>
public static class ApiApproval
{
    /// <summary>Set to <c>1</c> to write the approved files instead of comparing with them.</summary>
    public const string ApproveVariable = "O8_APPROVE_API";

    private const int MaxDiffLines = 60;

    /// <summary>Compares the public API of <paramref name="assembly"/> with <c>{spec}.{test}.approved.txt</c>.</summary>
    /// <param name="assembly">The package's assembly.</param>
    /// <param name="spec">The test class's name.</param>
    /// <param name="test">The test method's name.</param>
    public static void Verify(Assembly assembly, string spec, string test)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var received = Generate(assembly);
        var folder = ApprovedFolder(typeof(ApiApproval).Assembly); // compiled into each test project
        var approvedPath = Path.Combine(folder, $"{spec}.{test}.approved.txt");
        var receivedPath = Path.Combine(folder, $"{spec}.{test}.received.txt");

        if (Environment.GetEnvironmentVariable(ApproveVariable) == "1")
        {
            File.WriteAllText(approvedPath, received);
            File.Delete(receivedPath);
            return;
        }

        var approved = File.Exists(approvedPath) ? Normalize(File.ReadAllText(approvedPath)) : null;
        if (approved == received)
        {
            File.Delete(receivedPath); // a stale one from an earlier failure
            return;
        }

        File.WriteAllText(receivedPath, received);
        var why = approved is null
            ? $"No approved public API for {assembly.GetName().Name} yet ({approvedPath} is missing)."
            : $"The public API of {assembly.GetName().Name} changed (- approved, + now):\n{Diff(approved, received)}";
        Assert.Fail(
            $"{why}\nReceived: {receivedPath}\n" +
            $"If the change is intended, copy it over {Path.GetFileName(approvedPath)} (or rerun with {ApproveVariable}=1) and commit the approved file.");
    }

    /// <summary>The public API text of <paramref name="assembly"/>, with <c>\n</c> line ends and a final newline.</summary>
    public static string Generate(Assembly assembly) => Normalize(assembly.GeneratePublicApi(new ApiGeneratorOptions
    {
        // Packaging metadata (repository URL, commit) changes with every build: not API.
        ExcludeAttributes = ["System.Reflection.AssemblyMetadataAttribute"],
    }));

    private static string ApprovedFolder(Assembly testAssembly) =>
        testAssembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "O8ApprovedFolder")?.Value
        ?? throw new InvalidOperationException(
            $"{testAssembly.GetName().Name} has no O8ApprovedFolder assembly metadata; add it to the .csproj (see ApiApproval).");

    private static bool IsTypeLine(string line) =>
        line.StartsWith("    public ", StringComparison.Ordinal) &&
        (line.Contains(" class ", StringComparison.Ordinal) || line.Contains(" record ", StringComparison.Ordinal) ||
         line.Contains(" interface ", StringComparison.Ordinal) || line.Contains(" enum ", StringComparison.Ordinal) ||
         line.Contains(" struct ", StringComparison.Ordinal));

    private static string Normalize(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n') + "\n";

    /// <summary>A line diff (longest common subsequence) of the two texts: "-" approved only, "+" received only.</summary>
    private static string Diff(string approved, string received)
    {
        var a = approved.Split('\n');
        var b = received.Split('\n');
        var common = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
        }

        var diff = new StringBuilder();
        var lines = 0;
        string? type = null, shownType = null;
        void Add(char sign, string line)
        {
            if (lines++ >= MaxDiffLines) return;
            // Member lines do not name their type: say which type they belong to, once per run of changes.
            if (type is not null && type != shownType && !IsTypeLine(line)) diff.Append("  in ").Append(type.Trim()).Append('\n');
            shownType = type;
            diff.Append(sign).Append(' ').Append(line).Append('\n');
        }

        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                if (IsTypeLine(a[x])) type = a[x];
                x++;
                y++;
            }
            else if (y < b.Length && (x == a.Length || common[x, y + 1] >= common[x + 1, y]))
            {
                if (IsTypeLine(b[y])) type = b[y];
                Add('+', b[y++]);
            }
            else
            {
                if (IsTypeLine(a[x])) type = a[x];
                Add('-', a[x++]);
            }
        }

        if (lines > MaxDiffLines) diff.Append($"... and {lines - MaxDiffLines} more changed lines (see the received file).\n");
        return diff.ToString();
    }
}
