using System.Diagnostics;
using System.Runtime.InteropServices;
using O8Actors.Certificates;

namespace O8Actors.Browser;

/// <summary>
/// Opens the authorize URL in the user's browser, as RFC 8252 asks (an external user agent, never an embedded one):
/// <c>$BROWSER</c> first, then <c>wslview</c> under WSL, <c>xdg-open</c> on Linux and BSD, <c>open</c> on macOS and the
/// shell on Windows; a bare name is looked up on PATH only, never in the current directory. When none works it prints the
/// URL with an instruction, so a headless machine still completes the login.
/// It opens only https URLs and http URLs on a loopback host; anything else is refused before a process starts.
/// </summary>
public sealed class SystemBrowserLauncher : IBrowserLauncher, IBrowserAvailability
{
    private static readonly TimeSpan OpenerTimeout = TimeSpan.FromSeconds(10);
    private readonly TextWriter _fallback;
    private readonly Func<string, string?> _environment;

    /// <summary>Creates the launcher.</summary>
    /// <param name="fallback">Where to print the URL when no browser opens (default standard error).</param>
    /// <param name="environment">Environment lookup (<c>BROWSER</c>, <c>PATH</c>, the display variables; for tests); default
    /// <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    public SystemBrowserLauncher(TextWriter? fallback = null, Func<string, string?>? environment = null)
    {
        _fallback = fallback ?? Console.Error;
        _environment = environment ?? Environment.GetEnvironmentVariable;
    }

    /// <inheritdoc />
    /// <remarks>No display on Linux or FreeBSD, or an SSH session; an explicit <c>$BROWSER</c> counts as a browser unless it
    /// names text browsers only (<c>lynx</c>, <c>w3m</c>, <c>www-browser</c>...), which the launcher passes over.</remarks>
    public string? UnavailableReason => HeadlessDetection.Reason(_environment, HeadlessDetection.PlatformNeedsDisplay);

    /// <inheritdoc />
    /// <exception cref="BrowserLaunchRefusedException">The URL is not https, nor http on a loopback host; no process was started.</exception>
    public async Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
    {
        BrowserUrlPolicy.EnsureSafeToOpen(authorizeUrl);
        var url = authorizeUrl.AbsoluteUri;
        // Under WSL every opener may hand the URL to PowerShell on the Windows side (wslview does; xdg-open may hand over
        // to it; a $BROWSER entry there is wslview more often than not): what PowerShell would expand is escaped first.
        var opened = IsWsl() ? WindowsShellUrl.Of(authorizeUrl) : url;
        var failures = new List<string>();
        foreach (var (file, args) in (CandidatesOverride ?? Candidates)(opened))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var program = Resolve(file, _environment, OperatingSystem.IsWindows(), out var refused);
            var systemOpener = IsXdgOpen(file);
            var outcome = refused ?? (program is null ? "not installed"
                : HeadlessDetection.IsTerminalBrowser(program) ? "a terminal browser, which needs the terminal the app holds (open the URL below in it)"
                : systemOpener && HeadlessDetection.PlatformNeedsDisplay && !HeadlessDetection.HasDisplay(_environment) && !IsWsl()
                    ? "no display (neither DISPLAY nor WAYLAND_DISPLAY is set), where it could start only a terminal browser"
                : await TryRunAsync(program, args, withoutBrowserVariable: systemOpener, cancellationToken).ConfigureAwait(false));
            if (outcome is null)
            {
                await PrintIfOutOfSightAsync(Path.GetFileName(file), url).ConfigureAwait(false);
                return BrowserLaunchResult.Opened(Path.GetFileName(file));
            }

            failures.Add($"{Path.GetFileName(file)}: {outcome}");
        }

        await _fallback.WriteLineAsync(
            $"Open this URL in a browser to continue (no browser could be started automatically):{Environment.NewLine}  {PrintedUrl.Of(url)}")
            .ConfigureAwait(false);
        return BrowserLaunchResult.NotLaunched(failures.Count == 0 ? "no browser opener found" : string.Join("; ", failures));
    }

    /// <summary>
    /// An opener that worked in an SSH session worked on the remote machine: <c>open</c> on a Mac with a desktop session,
    /// <c>rundll32</c> in Windows OpenSSH's service session, <c>xdg-open</c> under a <c>DISPLAY</c> a tmux session kept
    /// all exit 0, and the browser shows on a screen the user is not in front of (or on none). The URL is printed as
    /// well, so the user can still open it (X forwarding, which shows the browser here, is why the opener is run at all).
    /// A <c>$BROWSER</c> of the user's own (a script that hands the URL home) is trusted, as <see cref="UnavailableReason"/> does.
    /// </summary>
    private async Task PrintIfOutOfSightAsync(string opener, string url)
    {
        if (UnavailableReason is not { } reason || !HeadlessDetection.IsSshSession(_environment)) return;
        await _fallback.WriteLineAsync(
            $"A browser was started ({opener}), but this is {reason}. If none opened in front of you, open this URL in a browser to continue:" +
            $"{Environment.NewLine}  {PrintedUrl.Of(url)}").ConfigureAwait(false);
    }

    /// <summary>Replaces the platform's openers (tests).</summary>
    internal Func<string, IEnumerable<(string File, string[] Args)>>? CandidatesOverride { get; init; }

    /// <summary>
    /// The commands to try, in order, as configured: a bare name is looked up on PATH only when it is run
    /// (<see cref="Resolve"/>). Internal for tests.
    /// </summary>
    internal IEnumerable<(string File, string[] Args)> Candidates(string url)
    {
        var browserVariable = _environment("BROWSER");
        if (!string.IsNullOrWhiteSpace(browserVariable))
        {
            foreach (var words in BrowserVariable.Commands(browserVariable))
            {
                var args = words.Skip(1).Select(a => a.Replace("%s", url, StringComparison.Ordinal)).ToList();
                if (!words.Any(w => w.Contains("%s", StringComparison.Ordinal))) args.Add(url);
                yield return (words[0], args.ToArray());
            }
        }

        if (OperatingSystem.IsWindows())
        {
            // Full paths: these are the system's own, and no PATH entry should stand in for them.
            yield return (Path.Combine(Environment.SystemDirectory, "rundll32.exe"), ["url.dll,FileProtocolHandler", url]);
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return ("/usr/bin/open", [url]);
        }
        else
        {
            if (IsWsl()) yield return ("wslview", [url]);
            yield return ("xdg-open", [url]);
        }
    }

    /// <summary>
    /// Whether <paramref name="file"/> is <c>xdg-open</c>. Without a display it can reach only the text browsers of its
    /// fallback list (<c>www-browser</c>, <c>lynx</c>, <c>w3m</c>...), which with no terminal dump the page and exit 0:
    /// counted as opened, nothing shown, nothing printed, the login timed out. So it is not run without a display (but
    /// under WSL, where an <c>xdg-open</c> shim may open the Windows browser), and runs without <c>$BROWSER</c>, whose
    /// entries the launcher has tried (or passed over) itself.
    /// </summary>
    private static bool IsXdgOpen(string file) => Path.GetFileName(file) == "xdg-open";

    /// <summary>
    /// Whether this is WSL: its distribution's name in the environment (as WSL sets it for every process it starts), or
    /// the kernel's description, read once (each launch asks, and the answer does not change while the process runs).
    /// </summary>
    private bool IsWsl() => !string.IsNullOrEmpty(_environment("WSL_DISTRO_NAME")) || (KernelIsWsl ?? (() => Wsl.Value))();

    /// <summary>Replaces the kernel's answer to "is this WSL" (tests, which may themselves run under WSL).</summary>
    internal Func<bool>? KernelIsWsl { get; init; }

    private static readonly Lazy<bool> Wsl = new(DetectWsl);

    private static bool DetectWsl()
    {
        try
        {
            return RuntimeInformation.OSDescription.Contains("microsoft", StringComparison.OrdinalIgnoreCase)
                   || (File.Exists("/proc/version") && File.ReadAllText("/proc/version").Contains("microsoft", StringComparison.OrdinalIgnoreCase));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An unreadable /proc (a sandbox) only means wslview is not tried; xdg-open still is.
            return false;
        }
    }

    /// <summary>
    /// The full path to run for <paramref name="file"/>, or null when it is not installed or is refused
    /// (<paramref name="refused"/> then says why). A bare name is looked up on PATH only: started by name, .NET (and
    /// CreateProcess on Windows) would look in the app's folder and the current directory first, where a program of that
    /// name planted in a cloned repository would receive the authorize URL. A path (a <c>$BROWSER</c> entry with a
    /// directory separator) is the user's explicit choice, but on Windows only a program: CreateProcess runs a .bat or
    /// .cmd file through cmd.exe, which splits the URL at each <c>&amp;</c> into commands (the browser got a cut URL, and
    /// an endpoint carrying <c>&amp;calc.exe&amp;</c> ran that), as the PATH lookup refuses such files too.
    /// </summary>
    /// <remarks>PATH is read through the launcher's environment lookup, as <c>$BROWSER</c> is. Internal for tests.</remarks>
    internal static string? Resolve(string file, Func<string, string?> environment, bool windows, out string? refused)
    {
        refused = null;
        if (file.Length == 0) return null;
        var isPath = file.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal)
                     || file.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal)
                     || (windows && file.Contains('\\', StringComparison.Ordinal));
        if (!isPath) return ExecutableLocator.FindOnPath(file, environment("PATH"), environment("PATHEXT"), windows);
        // No extension: CreateProcess adds .exe. Trailing dots and spaces are dropped by Windows ("open.cmd." runs open.cmd).
        if (windows && Path.GetExtension(file.Replace('\\', '/').TrimEnd('.', ' ')) is { Length: > 0 } extension && !ExecutableLocator.IsWindowsProgram(extension))
        {
            refused = $"a {extension} file, which Windows would run through cmd.exe, splitting the URL at each '&' into commands (name the browser's .exe)";
            return null;
        }

        return Path.GetFullPath(file);
    }

    /// <summary>Runs an opener; null on success, else why it failed (never the URL, which carries the state).</summary>
    private static async Task<string?> TryRunAsync(string file, string[] args, bool withoutBrowserVariable, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        if (withoutBrowserVariable) start.Environment.Remove("BROWSER");
        foreach (var arg in args) start.ArgumentList.Add(arg);
        try
        {
            var process = Process.Start(start);
            if (process is null) return "did not start";
            // The process is disposed by the drain, once this method is done with it too.
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _ = DrainThenDisposeAsync(process, done.Task);
            try
            {
                process.StandardInput.Close();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(OpenerTimeout);
                try
                {
                    await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // A browser started in the foreground keeps running: that is success.
                    return null;
                }
                return process.ExitCode == 0 ? null : $"exit code {process.ExitCode}";
            }
            finally
            {
                done.SetResult();
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.NativeErrorCode == 2 ? "not installed" : e.Message;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever else stops this opener (a path the runtime refuses, a platform without processes) is its failure
            // only: the next opener, and the printed URL after them, must still get their turn.
            return e.Message;
        }
    }

    /// <summary>
    /// Reads the opener's output to its end and drops it (it is kept out of the app's console), then lets go of the
    /// process once it has exited and <paramref name="released"/> says its launcher is done with it. The output pipes
    /// outlive the opener: a browser it starts inherits them, and may run for hours. Left unread, a pipe that fills stops
    /// whoever writes to it; closed while a writer lives (as disposing the process at once did), the writer's next line
    /// kills it (SIGPIPE) or fails.
    /// </summary>
    private static async Task DrainThenDisposeAsync(Process process, Task released)
    {
        try
        {
            await Task.WhenAll(
                process.StandardOutput.BaseStream.CopyToAsync(Stream.Null),
                process.StandardError.BaseStream.CopyToAsync(Stream.Null)).ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // A pipe that broke, or a process the runtime no longer tracks: nothing left to read or wait for.
        }

        await released.ConfigureAwait(false); // completed by the launcher, never faulted
        process.Dispose();
    }
}
