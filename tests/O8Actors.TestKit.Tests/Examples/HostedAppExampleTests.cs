using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace O8Actors.TestKit.Tests.Examples;

/// <summary>
/// <c>dotnet run --project examples/HostedApp</c>, as the README's layout names it: started as its own process from a
/// working directory that is not its project's (as <c>dotnet run --project</c> from the repository's root is), it reads
/// its settings, runs its three scripted logins against the sandbox and stops by itself.
/// </summary>
public sealed class HostedAppExampleTests
{
    private static string ProgramFolder =>
        typeof(HostedAppExampleTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "O8HostedAppFolder").Value!;

    [Fact]
    public async Task Started_from_another_directory_it_runs_its_logins_and_exits_0()
    {
        var elsewhere = Directory.CreateTempSubdirectory("o8-hostedapp-");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = elsewhere.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(ProgramFolder, "HostedApp.dll"));
        // No user secrets or environment settings of the machine running the test: the example's own defaults only.
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        void OnLine(object? _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
        }

        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(TestRun.Token).WaitAsync(TimeSpan.FromSeconds(90));
            process.WaitForExit(); // drains the redirected output

            string text;
            lock (output) text = output.ToString();
            Assert.True(process.ExitCode == 0, text);
            Assert.Contains("Login for alice ended Succeeded (refresh token: True)", text);
            Assert.Contains("Login for bob ended Succeeded (refresh token: True)", text);
            Assert.Contains("Login for deny-carol ended Denied (access_denied)", text);
            // Then each signed-in account calls the sandbox's userinfo through the IHttpClientFactory client.
            Assert.Contains("Called userinfo as OAuthAccount { Provider = sandbox, Key = alice }: sub = alice", text);
            Assert.Contains("Called userinfo as OAuthAccount { Provider = sandbox, Key = bob }: sub = bob", text);
            // The OpenTelemetry console exporter wrote a login's span: the example's telemetry wiring works too.
            Assert.Contains("Activity.DisplayName:        o8.login", text);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            elsewhere.Delete(recursive: true);
        }
    }
}
