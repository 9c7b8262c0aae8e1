namespace O8Actors.Benchmarks.Driver;

/// <summary>One line of the results table.</summary>
/// <param name="Kind">o8, ceiling, oidc or pending.</param>
/// <param name="Name">What was measured, e.g. "O8Actors https (RSA-2048)".</param>
/// <param name="Concurrency">Logins (or requests) in flight at once.</param>
/// <param name="N">Logins (or requests) measured.</param>
/// <param name="Result">What the measured process reported.</param>
/// <param name="DriverCpuMs">The driver's own CPU (browser + authorization server) over the measured phase.</param>
internal sealed record Row(string Kind, string Name, int Concurrency, int N, RowResult Result, double DriverCpuMs = double.NaN)
{
    /// <summary>Every run of this row when it was repeated (this row is the median run by logins/s), else null.</summary>
    public IReadOnlyList<Row>? Runs { get; init; }

    /// <summary>Failures over every run of the row.</summary>
    public int FailedInAllRuns => Runs?.Sum(r => r.Result.Failed) ?? Result.Failed;

    public double PerSecond => Result.WallSeconds > 0 ? Result.Completed / Result.WallSeconds : 0;

    public double CpuMsPerLogin => Result.Completed > 0 ? Result.CpuMs / Result.Completed : double.NaN;

    public double DriverCpuMsPerLogin => Result.Completed > 0 ? DriverCpuMs / Result.Completed : double.NaN;
}
