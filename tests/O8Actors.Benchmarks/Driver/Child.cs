using System.Diagnostics;

namespace O8Actors.Benchmarks.Driver;

/// <summary>A measured child process (this program in a role), talking the <see cref="Wire"/> protocol.</summary>
internal sealed class Child : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<string, string, Task> _onLine;
    private readonly Task _reader;
    private TimeSpan _driverCpuAtStart;

    private Child(Process process, Func<string, string, Task> onLine)
    {
        _process = process;
        _onLine = onLine;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Starts <c>this program --role role args</c>; <paramref name="onLine"/> gets every (verb, payload) line but RESULT.</summary>
    public static Child Start(string role, IEnumerable<string> args, Func<string, string, Task> onLine)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        // Under `dotnet O8Actors.Benchmarks.dll` the host is dotnet itself: pass the assembly first.
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(typeof(Child).Assembly.Location);
        start.ArgumentList.Add("--role");
        start.ArgumentList.Add(role);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the child process.");
        return new Child(process, onLine);
    }

    /// <summary>The child's RESULT line (JSON), once it arrives.</summary>
    public Task<string> Report => _result.Task;

    /// <summary>This (driver) process's CPU from the child's <c>MEASURING</c> line to its <c>RESULT</c>.</summary>
    public double DriverCpuMs { get; private set; } = double.NaN;

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    private async Task ReadAsync()
    {
        try
        {
            string? line;
            while ((line = await _process.StandardOutput.ReadLineAsync()) is not null)
            {
                var space = line.IndexOf(' ');
                var verb = space < 0 ? line : line[..space];
                var payload = space < 0 ? "" : line[(space + 1)..];
                if (verb == "MEASURING") _driverCpuAtStart = ProcessMeter.Cpu();
                else if (verb == "RESULT")
                {
                    if (_driverCpuAtStart != default) DriverCpuMs = (ProcessMeter.Cpu() - _driverCpuAtStart).TotalMilliseconds;
                    _result.TrySetResult(payload);
                }
                else if (verb is "READY" or "URL" or "MARKED" or "JITSTATE" or "CPU" or "WARMED" or "BLOCKDONE") await _onLine(verb, payload);
                else if (line.Length > 0) Console.Error.WriteLine($"  [{_process.Id}] {line}");
            }

            _result.TrySetException(new InvalidOperationException($"The child exited ({(_process.HasExited ? _process.ExitCode : -1)}) without a result."));
        }
        catch (Exception ex)
        {
            _result.TrySetException(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _reader.ConfigureAwait(false);
        _process.Dispose();
    }
}
