using System.Text;
using O8Actors.SoakTests.Support;
using Xunit.Abstractions;

namespace O8Actors.SoakTests.Hostile;

/// <summary>
/// Bad input against the one HTTPS loopback listener while logins are in flight: every request gets its status and
/// page, no exception escapes, no live login is disturbed (all of them complete afterwards with their own tokens) and
/// memory returns to its baseline.
/// </summary>
public sealed class HostileCallbackTests(ITestOutputHelper output)
{
    private const int LiveLogins = 8;
    private const int Rounds = 10;

    [Fact]
    public async Task Every_hostile_input_gets_its_page_and_no_live_login_is_disturbed()
    {
        await using var env = await HostileEnvironment.StartAsync(LiveLogins);
        // Short, yet long enough for the login to launch its browser first on a loaded machine.
        var expired = await env.StartLoginAsync(timeout: TimeSpan.FromSeconds(2));
        Assert.IsType<LoginTimedOut>(await expired.Outcome.WaitAsync(TimeSpan.FromSeconds(30)));
        var replayed = await env.StartLoginAsync();
        Assert.Equal(200, (await replayed.LandAsync(env.Listener)).Status);
        Assert.IsType<LoginSucceeded>(await replayed.Outcome.WaitAsync(TimeSpan.FromSeconds(30)));

        var cases = HostileInputs.Build(env.Listener, env.CallbackPath, HostileEnvironment.CallbackRoot, env.Live[0], expired, replayed);
        Assert.True(cases.Count >= 30, $"only {cases.Count} hostile inputs");
        Assert.Equal(cases.Count, cases.Select(c => c.Name).Distinct().Count());

        // First round: each input on its own, so a mismatch names its input. Then a warm baseline, then rounds of all
        // inputs at once; what they allocate must be collectable afterwards.
        var problems = new List<string>();
        foreach (var hostile in cases)
        {
            var response = await env.Listener.SendAsync(hostile.Request);
            if (hostile.Mismatch(response) is { } problem) problems.Add(problem);
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        env.AssertLiveUndisturbed();

        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        for (var round = 0; round < Rounds; round++)
        {
            var responses = await Task.WhenAll(cases.Select(c => env.Listener.SendAsync(c.Request)));
            problems.AddRange(cases.Zip(responses, (c, r) => c.Mismatch(r)).OfType<string>());
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"{cases.Count} inputs × {Rounds + 1} rounds; managed memory {baseline / 1024} KiB → {after / 1024} KiB");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct()));
        // Generous: 10 rounds send about 11 MB; a leak of the 1 MB query alone would show ten times over.
        Assert.True(after - baseline < 8 * 1024 * 1024, $"managed memory grew by {(after - baseline) / 1024} KiB");

        env.AssertLiveUndisturbed();
        Assert.Equal(LiveLogins, await env.InFlightAsync());
        Assert.Empty(env.Logs.Failures);
        await env.CompleteLiveAsync();
        Assert.Equal(0, await env.InFlightAsync());
    }

    [Fact]
    public async Task Provider_text_is_html_encoded_and_issuer_mix_ups_fail_only_their_own_login()
    {
        await using var env = await HostileEnvironment.StartAsync(LiveLogins);
        var path = env.CallbackPath;
        var denied = await env.StartLoginAsync();
        var wrongIssuer = await env.StartLoginAsync();
        var noIssuer = await env.StartLoginAsync();
        const string script = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>";

        var page = await env.Listener.GetAsync(
            $"{path}?state={denied.State}&error=access_denied&error_description={Uri.EscapeDataString(script)}&iss={Uri.EscapeDataString(denied.Issuer)}");
        Assert.Equal(403, page.Status);
        Assert.Contains("The sign-in was denied.", page.Body);
        Assert.Contains("&lt;script&gt;alert(document.cookie)&lt;/script&gt;", page.Body);
        Assert.DoesNotContain("<script", page.Body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", page.Body, StringComparison.OrdinalIgnoreCase);
        var denial = Assert.IsType<LoginDenied>(await denied.Outcome.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(script, denial.ErrorDescription);

        page = await env.Listener.GetAsync($"{path}?state={wrongIssuer.State}&code={wrongIssuer.Code}&iss={Uri.EscapeDataString("https://evil.example")}");
        Assert.Equal(400, page.Status);
        Assert.Contains("The sign-in failed.", page.Body);
        Assert.Equal(LoginFailure.IssuerMismatch, Assert.IsType<LoginFailed>(await wrongIssuer.Outcome.WaitAsync(TimeSpan.FromSeconds(30))).Failure);

        page = await env.Listener.GetAsync($"{path}?state={noIssuer.State}&code={noIssuer.Code}");
        Assert.Equal(400, page.Status);
        Assert.Contains("The sign-in failed.", page.Body);
        Assert.Equal(LoginFailure.IssuerMismatch, Assert.IsType<LoginFailed>(await noIssuer.Outcome.WaitAsync(TimeSpan.FromSeconds(30))).Failure);

        // Each of those requests carried a real state, and ended that login only; its code was never redeemed.
        Assert.Equal(0, env.O8.Sandbox.Counters.TokenRequests);
        env.AssertLiveUndisturbed();
        Assert.Empty(env.Logs.Failures);
        await env.CompleteLiveAsync();
    }

    [Fact]
    public async Task Slow_clients_and_a_thousand_idle_connections_are_bounded_and_starve_no_login()
    {
        await using var env = await HostileEnvironment.StartAsync(LiveLogins);
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        // 1,000 connections opened and left idle: half never start TLS, half finish the handshake and send nothing.
        // Generous: on a loaded CI machine 500 TLS handshakes alone can take a while.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var idle = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => env.Listener.ConnectAsync(handshake: i % 2 == 1, stop.Token)));
        output.WriteLine($"1,000 idle connections open after {clock.Elapsed.TotalSeconds:F1} s");
        try
        {
            // A slow client sends a whole callback byte by byte (about 2 s): it is served, and the listener serves
            // others meanwhile.
            var unknown = HostileInputs.RandomState();
            var slow = env.Listener.SendAsync(Encoding.ASCII.GetBytes(env.Listener.Request("GET", $"{env.CallbackPath}?state={unknown}&code=abc")),
                bytePace: TimeSpan.FromMilliseconds(15));
            // A client that stops halfway through its headers is cut off by Kestrel's header timeout, not kept forever.
            var (stalledClient, stalled) = await env.Listener.ConnectAsync(handshake: true, stop.Token);
            using (stalledClient)
            {
                await stalled.WriteAsync(Encoding.ASCII.GetBytes($"GET {env.CallbackPath}?state={unknown}&code=abc HTTP/1.1\r\nHost: loc"), stop.Token);
                await stalled.FlushAsync(stop.Token);

                // The live logins complete while all that is going on.
                await env.CompleteLiveAsync();
                Assert.Equal(0, await env.InFlightAsync());

                var slowAnswer = await slow;
                Assert.Equal(400, slowAnswer.Status);
                Assert.Contains(HostileCase.UnknownState, slowAnswer.Body);

                var cut = await RawHttp.ReadResponseAsync(stalled, stop.Token);
                Assert.True(cut.Status is 0 or 408, $"a stalled request got {cut}");
            }

            // Kestrel closes idle connections by itself: a TLS handshake must finish within 10 s, and a connection
            // with no request is dropped after the listener's keep-alive timeout.
            var closed = await Task.WhenAll(idle.Take(200).Select(c => RawHttp.ReadResponseAsync(c.Stream, stop.Token)));
            output.WriteLine($"200 idle connections closed by the server after {clock.Elapsed.TotalSeconds:F1} s");
            Assert.All(closed, r => Assert.True(r.Status is 0 or 408, $"an idle connection got {r}"));
        }
        finally
        {
            foreach (var (client, stream) in idle)
            {
                await stream.DisposeAsync();
                client.Dispose();
            }
        }

        // A fresh login still works after the barrage, and the connections left nothing behind.
        var fresh = await env.StartLoginAsync();
        Assert.Equal(200, (await fresh.LandAsync(env.Listener)).Status);
        Assert.IsType<LoginSucceeded>(await fresh.Outcome.WaitAsync(TimeSpan.FromSeconds(30)));
        var after = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"managed memory {baseline / 1024} KiB → {after / 1024} KiB");
        Assert.True(after - baseline < 16 * 1024 * 1024, $"managed memory grew by {(after - baseline) / 1024} KiB");
        Assert.Empty(env.Logs.Failures);
    }
}
