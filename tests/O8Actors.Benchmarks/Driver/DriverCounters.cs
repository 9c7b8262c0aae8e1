using System.Diagnostics.Metrics;

namespace O8Actors.Benchmarks.Driver;

/// <summary>
/// Counts the driver's HTTP work from the runtime's and ASP.NET Core's own meters: requests its authorization server
/// answered, requests its browser sent, and connections its browser closed (each one it opened, as every landing opens
/// a new one). Read around a block, it shows whether two sides cost the driver the same work per login.
/// </summary>
internal sealed class DriverCounters : IDisposable
{
    private const string Served = "http.server.request.duration";
    private const string Sent = "http.client.request.duration";
    private const string Connections = "http.client.connection.duration";

    private readonly MeterListener _listener = new();
    private long _served, _sent, _connections;

    public DriverCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name is Served or Sent or Connections) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
        {
            switch (instrument.Name)
            {
                case Served: Interlocked.Increment(ref _served); break;
                case Sent: Interlocked.Increment(ref _sent); break;
                default: Interlocked.Increment(ref _connections); break;
            }
        });
        _listener.Start();
    }

    /// <summary>The counts so far.</summary>
    public DriverWork Now() => new(Interlocked.Read(ref _served), Interlocked.Read(ref _sent), Interlocked.Read(ref _connections));

    public void Dispose() => _listener.Dispose();
}

/// <summary>The driver's HTTP work: requests served, requests sent, connections closed (totals, or per login).</summary>
internal sealed record DriverWork(double Served, double Sent, double Connections)
{
    /// <summary>What happened since <paramref name="before"/>, per login.</summary>
    public DriverWork PerLoginSince(DriverWork before, int logins) => logins == 0 ? new(0, 0, 0)
        : new((Served - before.Served) / logins, (Sent - before.Sent) / logins, (Connections - before.Connections) / logins);
}
