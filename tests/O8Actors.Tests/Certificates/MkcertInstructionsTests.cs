using System.Diagnostics;
using System.Runtime.Versioning;
using O8Actors.Certificates;

namespace O8Actors.Tests.Certificates;

/// <summary>
/// The manual steps a certificate error prints are commands a user pastes, often twice (once before reading the whole
/// message): each must work on a fresh machine and again on one where it already ran.
/// </summary>
public sealed class MkcertInstructionsTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "o8-mkcert-steps-" + Guid.NewGuid().ToString("N"));

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task The_shell_steps_work_into_a_missing_folder_and_can_be_run_again()
    {
        // Stand-ins on PATH: a certutil that, as the real one, cannot create a database that exists (it would prompt for
        // its password), and a mkcert that, as the real one, writes into the folder it is given without creating it.
        var bin = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
        var home = Directory.CreateDirectory(Path.Combine(_root, "home")).FullName;
        Script(Path.Combine(bin, "certutil"),
            "echo call >> \"$HOME/certutil-calls\"\n" +
            "[ -f \"$HOME/.pki/nssdb/cert9.db\" ] && { echo 'Enter new password:' >&2; exit 1; }\n" +
            "touch \"$HOME/.pki/nssdb/cert9.db\"");
        Script(Path.Combine(bin, "mkcert"), "echo cert > \"$3\" && echo key > \"$5\"");
        var folder = Path.Combine(_root, "data dir", "o8actors", "certs");
        var cert = Path.Combine(folder, "localhost.pem");
        var key = Path.Combine(folder, "localhost-key.pem");

        var commands = Commands(MkcertInstructions.Steps(cert, key, windows: false)).Where(c => c != "mkcert -install").ToList();
        Assert.Equal(3, commands.Count); // the NSS folder, its database, the certificate

        for (var run = 1; run <= 2; run++)
        {
            foreach (var command in commands)
            {
                var (exitCode, errors) = await ShAsync(command, home, bin);
                Assert.True(exitCode == 0, $"run {run}: '{command}' exited {exitCode}: {errors}");
            }
        }

        Assert.True(File.Exists(cert) && File.Exists(key), "the pair was made in the folder the steps named");
        Assert.Single(await File.ReadAllLinesAsync(Path.Combine(home, "certutil-calls")));
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task The_shell_steps_make_the_keys_folder_too_when_it_is_another_one()
    {
        var bin = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
        var home = Directory.CreateDirectory(Path.Combine(_root, "home")).FullName;
        Script(Path.Combine(bin, "mkcert"), "echo cert > \"$3\" && echo key > \"$5\"");
        // o8.certificates.cert-file = tls/localhost.pem, key-file = keys/localhost-key.pem
        var cert = Path.Combine(_root, "certs", "tls", "localhost.pem");
        var key = Path.Combine(_root, "certs", "keys", "localhost-key.pem");

        var create = Commands(MkcertInstructions.Steps(cert, key, windows: false)).Last();
        var (exitCode, errors) = await ShAsync(create, home, bin);

        Assert.True(exitCode == 0, $"'{create}' exited {exitCode}: {errors}");
        Assert.True(File.Exists(cert) && File.Exists(key), "the pair was made in the folders the steps named");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_step_a_missing_CA_points_at_is_the_one_that_runs_mkcert_install(bool windows)
    {
        var steps = MkcertInstructions.Steps("/c/localhost.pem", "/c/localhost-key.pem", windows).Split('\n');
        var why = MkcertInstructions.NoCa("/ca", hasCertificate: false, hasKey: false, windows);

        var named = System.Text.RegularExpressions.Regex.Match(why, @"\(step (\d) below\)");
        Assert.True(named.Success, why);
        var step = Array.FindIndex(steps, l => l.StartsWith($"  {named.Groups[1].Value}. ", StringComparison.Ordinal));
        // Before, "step 3" on Windows too, where step 3 creates the listener's certificate.
        Assert.Equal("mkcert -install", steps[step + 1].Trim());
    }

    [Fact]
    public void On_Windows_the_folder_is_made_in_PowerShell_and_no_NSS_step_is_given()
    {
        var steps = MkcertInstructions.Steps("/Users/a b/o8actors/certs/localhost.pem", "/Users/a b/o8actors/certs/localhost-key.pem", windows: true);

        Assert.Contains(
            "New-Item -ItemType Directory -Force -Path \"/Users/a b/o8actors/certs\" > $null; " +
            "mkcert -ecdsa -cert-file \"/Users/a b/o8actors/certs/localhost.pem\" -key-file \"/Users/a b/o8actors/certs/localhost-key.pem\" localhost 127.0.0.1 ::1",
            steps);
        Assert.Contains("mkcert -install", steps);
        Assert.DoesNotContain("certutil", steps);
        Assert.DoesNotContain("mkdir -p", steps);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    /// <summary>The indented command lines of the steps, in order.</summary>
    private static IEnumerable<string> Commands(string steps) =>
        steps.Split('\n').Where(l => l.StartsWith("       ", StringComparison.Ordinal)).Select(l => l.Trim());

    [UnsupportedOSPlatform("windows")]
    private static void Script(string path, string body)
    {
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static async Task<(int ExitCode, string Errors)> ShAsync(string command, string home, string bin)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment["HOME"] = home;
        start.Environment["PATH"] = $"{bin}:/usr/bin:/bin";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("/bin/sh did not start");
        process.StandardInput.Close(); // no terminal: a prompt reads end of input
        using var timeout = new CancellationTokenSource(Wait);
        var errors = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await errors);
    }
}
