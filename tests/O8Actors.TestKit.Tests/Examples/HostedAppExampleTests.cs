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
        var (exitCode, text) = await RunAsync([], new Dictionary<string, string>());

        Assert.True(exitCode == 0, text);
        Assert.Contains("Login for alice ended Succeeded (refresh token: True)", text);
        Assert.Contains("Login for bob ended Succeeded (refresh token: True)", text);
        Assert.Contains("Login for deny-carol ended Denied (access_denied)", text);
        // Then each signed-in account calls the sandbox's userinfo through the IHttpClientFactory client.
        Assert.Contains("Called userinfo as OAuthAccount { Provider = sandbox, Key = alice }: sub = alice", text);
        Assert.Contains("Called userinfo as OAuthAccount { Provider = sandbox, Key = bob }: sub = bob", text);
        // The OpenTelemetry console exporter wrote a login's span: the example's telemetry wiring works too.
        Assert.Contains("Activity.DisplayName:        o8.login", text);
    }

    /// <summary>
    /// Its "use it for real" steps: without the sandbox, with a real provider configured and named in Demo:Provider, the
    /// host starts (no half-configured sandbox provider fails it), logs that provider's redirect URI and runs its logins
    /// with it. Nobody signs in here (the browser is a no-op command), so each login times out after a second.
    /// </summary>
    [Fact]
    public async Task With_the_sandbox_off_it_starts_with_the_configured_provider_and_logs_its_redirect_uri()
    {
        string[] realProvider =
        [
            "--Demo:Sandbox=false", "--Demo:Provider=github",
            "--O8:Providers:github:Preset=github", "--O8:Providers:github:ClientId=hosted-app-test",
            "--O8:Login:Timeout=00:00:01",
        ];
        // The secret as the comments say to give it (the environment); BROWSER a command that opens nothing.
        var environment = new Dictionary<string, string> { ["O8__Providers__github__ClientSecret"] = "not-a-real-secret", ["BROWSER"] = "true" };

        var (exitCode, text) = await RunAsync(realProvider, environment);

        Assert.True(exitCode == 0, text);
        Assert.Matches(@"Redirect URI \(register it with your provider\): http://[^/\s]+:\d+/github", text);
        Assert.Contains("Login for alice ended TimedOut", text);
        Assert.DoesNotContain("sandbox", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("not-a-real-secret", text);
    }

    /// <summary>Runs the example's program from a temporary directory; its exit code and all it wrote.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(string[] arguments, Dictionary<string, string> environment)
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
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // No user secrets or environment settings of the machine running the test: the example's own defaults only.
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment) start.Environment[name] = value;

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

            lock (output) return (process.ExitCode, output.ToString());
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            elsewhere.Delete(recursive: true);
        }
    }
}
