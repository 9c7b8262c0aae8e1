using System.Globalization;
using O8Actors.Benchmarks.Driver;

namespace O8Actors.Benchmarks.Independent;

/// <summary>The independent setting's authorization server process, as the driver holds it: its issuer and its CPU so far.</summary>
internal sealed class IndependentServer : IAsyncDisposable
{
    private readonly Child _child;
    private readonly TaskCompletionSource<string> _issuer;
    private TaskCompletionSource<double> _cpu = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private IndependentServer(Child child, TaskCompletionSource<string> issuer)
    {
        _child = child;
        _issuer = issuer;
    }

    /// <summary>Starts the server with the O8 client's <paramref name="redirectUris"/> registered; returns once it is up.</summary>
    public static async Task<IndependentServer> StartAsync(IEnumerable<string> redirectUris)
    {
        var issuer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        IndependentServer? server = null;
        var child = Child.Start("authserver", ["--o8-redirect", string.Join(',', redirectUris)], (verb, payload) =>
        {
            if (verb == "READY") issuer.TrySetResult(payload);
            if (verb == "CPU") server?._cpu.TrySetResult(double.Parse(payload, CultureInfo.InvariantCulture));
            return Task.CompletedTask;
        });
        // CPU answers come only after a question, so the server is assigned before the first one.
        server = new IndependentServer(child, issuer);
        await server.IssuerAsync();
        return server;
    }

    /// <summary>The server's issuer identifier.</summary>
    public Task<string> IssuerAsync() => _issuer.Task.WaitAsync(TimeSpan.FromSeconds(60));

    /// <summary>The server's CPU so far, in milliseconds (one question at a time).</summary>
    public async Task<double> CpuAsync()
    {
        _cpu = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _child.SendAsync("CPU");
        return await _cpu.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public ValueTask DisposeAsync() => _child.DisposeAsync();
}
