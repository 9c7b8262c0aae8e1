using O8Actors.Browser;

namespace O8Actors.Tests.Browser;

/// <summary>Tests that change the process's current directory or environment: they run alone, after every other collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideStateCollection
{
    public const string Name = "Process-wide state (current directory, environment)";
}

[Collection(ProcessWideStateCollection.Name)]
public sealed class PlantedOpenerTests
{
    private static readonly Uri Url = new("https://provider.test/authorize?state=abc&x=1");

    [Fact]
    public async Task An_opener_planted_in_the_current_directory_never_receives_the_authorize_URL()
    {
        // xdg-open and wslview are started by name on Linux and the BSDs; macOS and Windows use full system paths.
        if (OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()) return;
        // The folder a CLI is run from (a cloned repository) holding programs named like the openers.
        var planted = Directory.CreateTempSubdirectory("o8-planted-");
        var emptyPath = Directory.CreateTempSubdirectory("o8-empty-path-");
        var received = Path.Combine(planted.FullName, "received");
        foreach (var name in new[] { "xdg-open", "wslview" })
        {
            var script = Path.Combine(planted.FullName, name);
            await OpenerEnvironment.WriteScriptAsync(script, $"echo \"$1\" > '{received}'\n");
        }

        var previousDirectory = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = planted.FullName;
            var printed = new StringWriter();
            // A PATH with no opener on it, so no real browser starts whatever this machine has installed.
            var launcher = new SystemBrowserLauncher(printed, name => name == "PATH" ? emptyPath.FullName : null);

            var result = await launcher.LaunchAsync(Url, CancellationToken.None);

            // A planted opener that ran may have left a child behind that writes later: give it a moment.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            while (!File.Exists(received) && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.False(File.Exists(received), "a program in the current directory received the authorize URL");
            Assert.False(result.Launched);
            Assert.Contains("xdg-open: not installed", result.Detail);
            Assert.Contains(Url.AbsoluteUri, printed.ToString());
        }
        finally
        {
            Environment.CurrentDirectory = previousDirectory;
            planted.Delete(recursive: true);
            emptyPath.Delete(recursive: true);
        }
    }

    /// <summary>
    /// xdg-open runs without <c>$BROWSER</c>: the launcher has tried (or passed over) its entries itself, and xdg-open
    /// would run them again, a text browser among them that dumps the page and counts as opened. (The variable is set in
    /// this process for the test, so it runs alone.)
    /// </summary>
    [Fact]
    public async Task Xdg_open_runs_without_the_BROWSER_variable_the_launcher_has_already_tried()
    {
        if (OperatingSystem.IsWindows() || !HeadlessDetection.PlatformNeedsDisplay) return;
        var folder = Directory.CreateTempSubdirectory("o8-xdg-open-");
        var previous = Environment.GetEnvironmentVariable("BROWSER");
        try
        {
            var seen = Path.Combine(folder.FullName, "seen");
            var opener = Path.Combine(folder.FullName, "xdg-open");
            await OpenerEnvironment.WriteScriptAsync(opener, $"echo \"${{BROWSER-unset}}\" > '{seen}'\n");
            Environment.SetEnvironmentVariable("BROWSER", "w3m");
            var launcher = new SystemBrowserLauncher(TextWriter.Null, name => name switch
            {
                "PATH" => folder.FullName,
                "DISPLAY" => ":0",
                _ => null,
            });

            var result = await launcher.LaunchAsync(Url, CancellationToken.None);

            Assert.True(result.Launched);
            Assert.Equal("xdg-open", result.Detail);
            Assert.Equal("unset", (await File.ReadAllTextAsync(seen)).Trim());
        }
        finally
        {
            Environment.SetEnvironmentVariable("BROWSER", previous);
            folder.Delete(recursive: true);
        }
    }
}
