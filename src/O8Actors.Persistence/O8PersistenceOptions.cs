using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;

namespace O8Actors.Persistence;

/// <summary>Where <see cref="O8PersistenceHostingExtensions.WithOAuthAccountsPersistence(Akka.Hosting.AkkaConfigurationBuilder, Action{O8PersistenceOptions}?)"/> keeps the accounts' tokens.</summary>
public sealed class O8PersistenceOptions
{
    /// <summary>The database; SQLite (a file in the app data folder) by default.</summary>
    public O8PersistenceDatabase Database { get; set; } = O8PersistenceDatabase.Sqlite;

    /// <summary>
    /// The ADO.NET connection string; null for SQLite means <c>Data Source=</c> this app's own database
    /// (<see cref="DefaultSqliteFile"/>, or <see cref="DefaultSqliteFileFor"/> the <see cref="AppId"/>).
    /// Required for PostgreSQL.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The Data Protection keys that encrypt the token payloads. Null: a key ring in <see cref="KeyRingFolder"/>. Every
    /// node of a cluster needs the same keys (a shared key ring), or a node cannot read what another one stored.
    /// </summary>
    public IDataProtectionProvider? DataProtection { get; set; }

    /// <summary>
    /// Use the app's own Data Protection (the <see cref="IDataProtectionProvider"/> of the service collection, with
    /// the key ring the app configured, e.g. one shared by all nodes) when <see cref="DataProtection"/> is null. Off by
    /// default: ASP.NET Core's default key ring may live in memory only (a container without a home folder), and tokens
    /// encrypted with it would not survive a restart.
    /// </summary>
    public bool UseAppDataProtection { get; set; }

    /// <summary>
    /// The key ring's folder when <see cref="DataProtection"/> is null and <see cref="UseAppDataProtection"/> is off; null:
    /// <c>keys</c> in the app data folder's <c>o8actors</c>. The folder is made the user's alone (0700, key files 0600) on
    /// Linux and macOS, where it can be; on Windows the default folder's keys are encrypted with DPAPI, a folder named here
    /// (which a cluster's machines may share) is left to the app to protect.
    /// </summary>
    public string? KeyRingFolder { get; set; }

    /// <summary>The journal and snapshot store plugin id (<c>akka.persistence.journal.&lt;id&gt;</c>): O8Actors' own, apart from the app's default plugin.</summary>
    public string PluginId { get; set; } = "o8-tokens";

    /// <summary>
    /// How long one store operation may take before it fails (database and actor round trip). An account's register that
    /// cannot read its state from the database gives up each step of its recovery after two thirds of it, and the
    /// operations waiting for it fail then, saying so; a database that answers slowly needs two thirds to cover one read.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long an account's register stays in memory without a request (its tokens stay in the database).</summary>
    public TimeSpan RegisterIdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>In a cluster: the role of the nodes that hold the registers (null: every node).</summary>
    public string? ClusterRole { get; set; }

    /// <summary>In a cluster: the number of shards of the registers' region (the same on every node).</summary>
    public int NumberOfShards { get; set; } = 100;

    /// <summary>
    /// The app whose default SQLite database this is (<see cref="DefaultSqliteFileFor"/>); null: the entry assembly's
    /// name. Set it when that name is not what names the app (several tools in one assembly, a renamed app keeping its
    /// accounts). Used only without a <see cref="ConnectionString"/>.
    /// </summary>
    public string? AppId { get; set; }

    /// <summary>
    /// This app's default SQLite database: <see cref="DefaultSqliteFileFor"/> the entry assembly's name
    /// (<c>o8actors/apps/&lt;app&gt;/tokens.db</c> in LocalApplicationData, <c>~/.local/share</c> on Linux); the database all
    /// apps shared before, <c>o8actors/tokens.db</c>, when there is no entry assembly.
    /// </summary>
    /// <remarks>
    /// One database per app: two apps of one user that sign in to the same provider under the same account key would
    /// otherwise share the account's register, and with it one persistence id written by two processes, which
    /// Akka.Persistence does not allow (each writes its own sequence numbers). The database all apps shared before is
    /// not read, and never copied (a live refresh token in two databases would be spent twice): an upgraded app signs its
    /// accounts in once more, or names that file in <see cref="ConnectionString"/> to keep using it.
    /// </remarks>
    public static string DefaultSqliteFile =>
        O8Actors.Accounts.TokenFolders.DefaultAppId is { } app ? DefaultSqliteFileFor(app) : Path.Combine(DataFolder, "tokens.db");

    /// <summary>The default SQLite database of the app <paramref name="appId"/>: <c>o8actors/apps/&lt;appId&gt;/tokens.db</c> in the user's data folder.</summary>
    /// <param name="appId">One folder name: no path separators.</param>
    /// <exception cref="ArgumentException">The app id is empty or is not a single folder name.</exception>
    public static string DefaultSqliteFileFor(string appId) => Path.Combine(O8Actors.Accounts.TokenFolders.AppFolder(appId), "tokens.db");

    /// <summary>
    /// How long a start outside a cluster waits for another process to release the SQLite database before it is
    /// refused (default 10 s; <c>O8:Persistence:DatabaseLockWait</c>). The instance before it releases the database when
    /// its actor system has stopped, after its shutdown has settled the accounts and stopped the listener (up to the
    /// hosted <c>ShutdownTimeout</c> each): where a restart overlaps the previous instance (an IIS overlapped recycle, a
    /// supervisor that starts the new process first), give this at least twice the hosted <c>ShutdownTimeout</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, or longer than an hour.</exception>
    public TimeSpan DatabaseLockWait
    {
        get => _databaseLockWait;
        set => _databaseLockWait = value >= TimeSpan.Zero && value <= MaximumDatabaseLockWait
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"{nameof(DatabaseLockWait)} must be between zero and one hour, not {value}.");
    }

    private TimeSpan _databaseLockWait = DatabaseLock.WaitForOtherProcess;
    private static readonly TimeSpan MaximumDatabaseLockWait = TimeSpan.FromHours(1);

    /// <summary>The configuration section <see cref="FromConfiguration"/> read into these options; null when it never ran.</summary>
    internal string? SectionRead { get; private set; }

    /// <summary>The SQLite database these options use without a connection string.</summary>
    internal string SqliteFile => AppId is { } app ? DefaultSqliteFileFor(app) : DefaultSqliteFile;

    // The user's O8Actors folder, which holds the default key ring (one per user: it guards each app's own database, and
    // PostgreSQL rows written before the databases were split by app stay readable).
    internal static string DataFolder => O8Actors.Accounts.TokenFolders.DataRoot;

    private static readonly string[] ConfigurationKeys =
        ["Database", "ConnectionString", "ConnectionStringName", "KeyRingFolder", "UseAppDataProtection", "AppId", "DatabaseLockWait"];

    // The connection string FromConfiguration read and the content root its SQLite file is taken from, while it is the one set.
    private (string Connection, string ContentRoot)? _configuredConnection;

    /// <summary>
    /// The connection string the store opens: a SQLite one read from configuration has its relative file taken from the
    /// content root (see <see cref="FromConfiguration"/>); one set in code is used as written.
    /// </summary>
    internal string? EffectiveConnectionString =>
        Database == O8PersistenceDatabase.Sqlite && _configuredConnection is { } configured && ReferenceEquals(ConnectionString, configured.Connection)
            ? SqliteDatabaseFile.FromContentRoot(configured.Connection, configured.ContentRoot)
            : ConnectionString;

    /// <summary>The content root as the .NET host resolves it from <paramref name="configuration"/>'s <c>contentRoot</c>.</summary>
    private static string ContentRootOf(IConfiguration configuration) =>
        configuration[Microsoft.Extensions.Hosting.HostDefaults.ContentRootKey] is { Length: > 0 } root
            ? Path.GetFullPath(root, AppContext.BaseDirectory)
            : AppContext.BaseDirectory;

    /// <summary>
    /// Reads <c>Database</c> (<c>Sqlite</c> or <c>PostgreSql</c>), <c>ConnectionString</c> (or the connection string
    /// named by <c>ConnectionStringName</c> under <c>ConnectionStrings</c>), <c>KeyRingFolder</c>, <c>UseAppDataProtection</c>, <c>AppId</c>
    /// and <c>DatabaseLockWait</c> (<c>30s</c>, <c>2m</c> or <c>00:00:30</c>, as the O8 section's other durations) from
    /// <paramref name="section"/> of <paramref name="configuration"/>; keys that are absent leave the current value.
    /// A relative <c>KeyRingFolder</c>, and a relative SQLite <c>Data Source</c>, are the app's own files: they are taken
    /// from the content root, as the providers' key files are, not from the working directory (a Windows service's is
    /// System32). The content root is found as the .NET host finds it: the configuration's <c>contentRoot</c> (relative to
    /// the app's folder when relative), else the app's folder (<see cref="AppContext.BaseDirectory"/>), which is what a
    /// host started in System32 uses.
    /// </summary>
    /// <exception cref="ArgumentException">A key of the section is none of these, or a value is not one of its kind.</exception>
    public O8PersistenceOptions FromConfiguration(IConfiguration configuration, string section = "O8:Persistence")
    {
        ArgumentNullException.ThrowIfNull(configuration);
        SectionRead = section;
        var s = configuration.GetSection(section);
        // A misspelt key would leave its setting at the default without a word (SQLite where PostgreSQL was meant).
        foreach (var key in s.GetChildren())
        {
            if (!ConfigurationKeys.Contains(key.Key, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"{section}:{key.Key} is not a setting of O8Actors.Persistence; the settings are " +
                    $"{string.Join(", ", ConfigurationKeys)}.", nameof(configuration));
        }

        if (s["Database"] is { Length: > 0 } database)
            // Names only: Enum.TryParse would also take numbers ("1") and comma lists ("Sqlite,PostgreSql", OR-ed).
            Database = Enum.GetValues<O8PersistenceDatabase>().FirstOrDefault(d => string.Equals(d.ToString(), database.Trim(), StringComparison.OrdinalIgnoreCase),
                (O8PersistenceDatabase)(-1)) is var parsed && Enum.IsDefined(parsed)
                ? parsed
                : throw new ArgumentException($"{section}:Database must be Sqlite or PostgreSql, not '{database}'.", nameof(configuration));
        var contentRoot = ContentRootOf(configuration);
        var connection = s["ConnectionString"];
        if (s["ConnectionStringName"] is { Length: > 0 } name)
        {
            // Two forms of one setting, perhaps from two sources (appsettings and an environment variable): which one was
            // meant is unknown, and either would silently open another database than the other names.
            if (connection is { Length: > 0 })
                throw new ArgumentException($"{section}:ConnectionString and {section}:ConnectionStringName are both set; set one of them.", nameof(configuration));
            // Empty counts as not set: a placeholder for a variable that never came would otherwise open the default file.
            connection = configuration.GetConnectionString(name) is { Length: > 0 } named
                ? named
                : throw new ArgumentException($"{section}:ConnectionStringName names ConnectionStrings:{name}, which is not set or is empty.", nameof(configuration));
        }

        if (connection is { Length: > 0 })
        {
            ConnectionString = connection;
            // Resolved at start, once the database is final: an app may switch to PostgreSQL after reading the section.
            _configuredConnection = (connection, contentRoot);
        }

        if (s["KeyRingFolder"] is { Length: > 0 } keys) KeyRingFolder = Path.GetFullPath(keys, contentRoot);
        if (s["AppId"] is { Length: > 0 } appId)
            AppId = O8Actors.Accounts.TokenFolders.IsFolderName(appId)
                ? appId
                : throw new ArgumentException($"{section}:AppId must be one folder name (no path separators), not '{appId}'.", nameof(configuration));
        if (s["UseAppDataProtection"] is { Length: > 0 } app)
            UseAppDataProtection = bool.TryParse(app, out var use)
                ? use
                : throw new ArgumentException($"{section}:UseAppDataProtection must be true or false, not '{app}'.", nameof(configuration));
        if (s["DatabaseLockWait"] is { Length: > 0 } lockWait)
            // In the O8 section's forms (30s, 2m, 00:00:30), as every other duration of the section is written.
            DatabaseLockWait = O8Actors.Hosting.O8SettingsSetup.TryParseDuration(lockWait) is { } wait && wait >= TimeSpan.Zero && wait <= MaximumDatabaseLockWait
                ? wait
                : throw new ArgumentException($"{section}:DatabaseLockWait must be {O8Actors.Hosting.O8SettingsSetup.DurationForms}, at most an hour; not '{lockWait}'.",
                    nameof(configuration));
        return this;
    }
}

/// <summary>The databases <see cref="PersistentTokenStore"/> is tested against (through Akka.Persistence.Sql).</summary>
public enum O8PersistenceDatabase
{
    /// <summary>SQLite through Microsoft.Data.Sqlite: the embedded default.</summary>
    Sqlite,

    /// <summary>PostgreSQL through Npgsql.</summary>
    PostgreSql,
}
