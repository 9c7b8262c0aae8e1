using System.Diagnostics;
using O8Actors.TestSupport;

namespace O8Actors.Persistence.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL cluster for one test class: <c>initdb</c> in a temporary folder, <c>pg_ctl start</c> on
/// 127.0.0.1 and a free port, trust authentication for its own superuser, stopped and deleted at the end. PostgreSQL
/// refuses to run as root, so as root it runs as the <c>postgres</c> user (Debian's package creates it) via runuser.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private static readonly string Bin = Environment.GetEnvironmentVariable("O8_PG_BIN") ?? InstalledBin();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "o8-pg-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The data folder (its files are searched byte for byte by the tests).</summary>
    public string DataFolder => Path.Combine(_root, "data");

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; } = FreePorts.Next();

    /// <summary>A connection string to a fresh database for one test.</summary>
    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=o8;Database={database};Pooling=false";

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// The programs of the newest PostgreSQL the distribution's package installed (<c>/usr/lib/postgresql/{major}/bin</c>:
    /// 15 on Debian 12, 17 on Debian 13), so the tests do not depend on one release; <c>O8_PG_BIN</c> names another folder.
    /// </summary>
    private static string InstalledBin()
    {
        const string root = "/usr/lib/postgresql";
        var newest = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(folder => (Folder: folder, Major: int.TryParse(Path.GetFileName(folder), out var major) ? major : -1))
                .Where(found => found.Major >= 0 && File.Exists(Path.Combine(found.Folder, "bin", "initdb")))
                .OrderByDescending(found => found.Major)
                .Select(found => Path.Combine(found.Folder, "bin"))
                .FirstOrDefault()
            : null;
        return newest ?? throw new InvalidOperationException(
            $"No PostgreSQL server programs under {root}/<major>/bin: install the postgresql package (bash .ci/run does), or set O8_PG_BIN to the folder that holds initdb and pg_ctl.");
    }

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        if (IsRoot) await RunAsync("chown", ["postgres:postgres", _root], asPostgres: false);
        await RunAsync(Path.Combine(Bin, "initdb"), ["-D", DataFolder, "-U", "o8", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        await RunAsync(Path.Combine(Bin, "pg_ctl"),
            ["-D", DataFolder, "-l", Path.Combine(_root, "log"), "-w", "-t", "60", "-o", $"-h 127.0.0.1 -p {Port} -k {_root} -c fsync=off", "start"]);
    }

    /// <summary>Creates an empty database.</summary>
    public async Task CreateDatabaseAsync(string name)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Forces what is in memory to the data files (so the file search sees every row).</summary>
    public async Task CheckpointAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("CHECKPOINT", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync(Path.Combine(Bin, "pg_ctl"), ["-D", DataFolder, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, bool asPostgres = true)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres && IsRoot)
        {
            start.FileName = "runuser";
            foreach (var a in (string[])["-u", "postgres", "--", file]) start.ArgumentList.Add(a);
        }
        else
        {
            start.FileName = file;
        }

        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output} {await error}");
    }
}
