using System.Diagnostics;
using System.Text;
using O8Actors.TestSupport;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// <c>examples/WebConnect</c> run as its own process, as <c>dotnet run</c> runs it: a bad argument is said in one line
/// (it was an unhandled exception, a stack trace and an abort), and the app starts with its sandbox turned off (a
/// half-configured provider left in appsettings.json failed the start).
/// </summary>
public sealed class WebConnectCommandLineTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("--cluster 10", "--cluster takes the number of nodes, 1 to 9")]
    [InlineData("--cluster abc", "--cluster takes the number of nodes, 1 to 9")]
    [InlineData("--urls http://localhost:5000", "Set Urls (--urls) to the app's public https address")]
    public async Task A_bad_argument_is_said_in_one_line_and_the_app_exits_with_1(string arguments, string expected)
    {
        using var app = Start([.. arguments.Split(' ')]);

        await app.Process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(Wait, TestContext.Current.CancellationToken);
        app.Process.WaitForExit(); // drains the redirected output

        Assert.Equal(1, app.Process.ExitCode);
        Assert.Contains($"WebConnect: {expected}", app.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_sandbox_turned_off_the_app_starts()
    {
        using var app = Start("--Demo:Sandbox=false", "--urls", $"https://localhost:{FreePorts.Next()}");

        await app.Started.WaitAsync(Wait, TestContext.Current.CancellationToken);

        Assert.False(app.Process.HasExited, app.Output);
        Assert.DoesNotContain("Invalid O8Actors provider", app.Output, StringComparison.Ordinal);
    }

    private static RunningApp Start(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "WebConnect"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // As `dotnet run --project examples/WebConnect` does: the example's own folder, with its appsettings.json.
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(WebConnectClusterSmokeTests.ExampleFolder());
        return new RunningApp(Process.Start(start)!);
    }

    /// <summary>The example's process, its output as it comes, and whether its host said it started.</summary>
    private sealed class RunningApp : IDisposable
    {
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RunningApp(Process process)
        {
            Process = process;
            process.OutputDataReceived += OnLine;
            process.ErrorDataReceived += OnLine;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public Task Started => _started.Task;

        public string Output
        {
            get
            {
                lock (_output) return _output.ToString();
            }
        }

        private void OnLine(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (_output) _output.AppendLine(e.Data);
            if (e.Data.Contains("Application started", StringComparison.Ordinal)) _started.TrySetResult();
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }
}
