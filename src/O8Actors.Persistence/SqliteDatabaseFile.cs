using Microsoft.Data.Sqlite;

namespace O8Actors.Persistence;

/// <summary>
/// The file a SQLite connection string opens, as Microsoft.Data.Sqlite opens it: a <c>Data Source</c> starting with
/// <c>file:</c> (any case) is a SQLite URI (<c>file:/srv/app/tokens.db</c>, <c>file:///srv/app/tokens.db?mode=rwc</c>,
/// <c>file:tokens.db</c>), whose path is percent-decoded and ends at <c>?</c> or <c>#</c>; anything else is a file name.
/// </summary>
internal static class SqliteDatabaseFile
{
    private const string UriScheme = "file:";
    private const string DataFolderMacro = "|DataDirectory|";

    /// <summary>
    /// The full path of <paramref name="connection"/>'s database; null when it is in memory (<c>Mode=Memory</c>,
    /// <c>:memory:</c>, a URI with <c>mode=memory</c>) or a temporary one (an empty name): either is one connection's or
    /// this process's alone.
    /// </summary>
    public static string? Of(string connection)
    {
        var builder = new SqliteConnectionStringBuilder(connection);
        if (builder.Mode == SqliteOpenMode.Memory) return null;
        var source = builder.DataSource;
        if (!source.StartsWith(UriScheme, StringComparison.OrdinalIgnoreCase))
            return source is "" or ":memory:" ? null : Path.GetFullPath(InDataFolder(source));
        return OfUri(source[UriScheme.Length..]);
    }

    /// <summary>
    /// A file name as Microsoft.Data.Sqlite opens it when the app sets a data folder (the <c>DataDirectory</c> value of its
    /// <see cref="AppDomain"/>): <c>|DataDirectory|</c> at its start, or a relative name, is in that folder. With none set,
    /// the name is opened as written (a relative one, the macro included, from the working directory).
    /// </summary>
    private static string InDataFolder(string source)
    {
        if (AppDomain.CurrentDomain.GetData("DataDirectory") is not string { Length: > 0 } folder) return source;
        if (source.StartsWith(DataFolderMacro, StringComparison.OrdinalIgnoreCase)) return Path.Combine(folder, source[DataFolderMacro.Length..]);
        return Path.IsPathRooted(source) ? source : Path.Combine(folder, source);
    }

    /// <summary>
    /// <paramref name="connection"/> with a relative file name in its <c>Data Source</c> made full from
    /// <paramref name="contentRoot"/>; as it is when its source is already full, in memory, temporary or a
    /// <c>file:</c> URI, or starts with Microsoft.Data.Sqlite's <c>|DataDirectory|</c>, which say where they are themselves.
    /// </summary>
    public static string FromContentRoot(string connection, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(connection);
        var source = builder.DataSource;
        if (builder.Mode == SqliteOpenMode.Memory || source is "" or ":memory:" || Path.IsPathFullyQualified(source)
            || source.StartsWith(UriScheme, StringComparison.OrdinalIgnoreCase) || source.StartsWith(DataFolderMacro, StringComparison.OrdinalIgnoreCase))
            return connection;
        builder.DataSource = Path.GetFullPath(source, contentRoot);
        return builder.ConnectionString;
    }

    private static string? OfUri(string uri)
    {
        var end = uri.IndexOfAny(['?', '#']);
        var path = end < 0 ? uri : uri[..end];
        var query = end >= 0 && uri[end] == '?' ? uri[(end + 1)..].Split('#')[0] : "";
        if (query.Split('&').Any(IsMemoryMode)) return null;
        // "file://host/path": SQLite takes an empty authority or "localhost" (and refuses any other when it opens).
        if (path.StartsWith("//", StringComparison.Ordinal))
        {
            var slash = path.IndexOf('/', 2);
            path = slash < 0 ? "" : path[slash..];
        }
        path = Uri.UnescapeDataString(path);
        if (path is "" or ":memory:") return null;
        // SQLite on Windows reads "/C:/app/tokens.db" as "C:/app/tokens.db".
        if (OperatingSystem.IsWindows() && path.Length >= 3 && path[0] == '/' && char.IsAsciiLetter(path[1]) && path[2] == ':')
            path = path[1..];
        return Path.GetFullPath(path);
    }

    private static bool IsMemoryMode(string parameter)
    {
        var equals = parameter.IndexOf('=', StringComparison.Ordinal);
        return equals > 0
            && Uri.UnescapeDataString(parameter[..equals]) == "mode"
            && Uri.UnescapeDataString(parameter[(equals + 1)..]).Equals("memory", StringComparison.OrdinalIgnoreCase);
    }
}
