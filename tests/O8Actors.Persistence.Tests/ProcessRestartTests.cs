using System.Diagnostics;
using O8Actors.Persistence.Tests.Support;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// Issue 13's "a process restart serves the cached token with no login", with real processes: a tiny CLI app
/// (tests/O8Actors.RestartProbe) runs twice on one <see cref="FileTokenStore"/> folder. The first run signs in; the second
/// serves the same token, and the sandbox sees no authorize or token request from it.
/// </summary>
public sealed class ProcessRestartTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-restart-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _clientId = "restart-" + Guid.NewGuid().ToString("N");
    private bool _registered;

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    /// <summary>One run of the app: registers the redirect URI it prints (first run), lets it go on, returns its output lines.</summary>
    private async Task<List<string>> RunAppAsync(CancellationToken ct)
    {
        var server = sandbox.Server;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "O8Actors.RestartProbe.dll"), _folder,
                     server.AuthorizationEndpoint.ToString(), server.TokenEndpoint.ToString(), server.IssuerString, _clientId])
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            var first = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? "";
            Assert.StartsWith("redirect ", first, StringComparison.Ordinal);
            // The first run's redirect URI: a second run that tried to sign in (on another port) would be refused by the sandbox.
            if (!_registered) server.RegisterClient(_clientId, null, [first["redirect ".Length..]], O8Actors.TestKit.Sandbox.ClientAuthMethod.None);
            _registered = true;
            await process.StandardInput.WriteLineAsync("go");
            await process.StandardInput.FlushAsync(timeout.Token);
            var rest = await process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {rest} {await error}");
            return rest.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task A_second_run_of_the_app_serves_the_stored_token_with_no_login()
    {
        var ct = TestContext.Current.CancellationToken;

        var first = await RunAppAsync(ct);
        Assert.Equal("login", first[0]);
        var authorizeRequests = sandbox.Server.Counters.AuthorizeRequests;
        var tokenRequests = sandbox.Server.Counters.TokenRequests;
        Assert.True(authorizeRequests > 0 && tokenRequests > 0);

        var second = await RunAppAsync(ct);

        Assert.Equal("cached", second[0]);
        Assert.StartsWith("token-sha256 ", second[1], StringComparison.Ordinal);
        Assert.Equal(first[1], second[1]);
        Assert.Equal(authorizeRequests, sandbox.Server.Counters.AuthorizeRequests);
        Assert.Equal(tokenRequests, sandbox.Server.Counters.TokenRequests);
    }
}
