using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace O8Actors.Persistence;

/// <summary>
/// The lock of a PostgreSQL token database: a session advisory lock (<c>pg_try_advisory_lock</c>), keyed by the store's
/// plugin id (its persistence ids), held on a connection of its own, outside the pool, for the actor system's life. The
/// server drops it when that session ends, a crashed process's included.
/// </summary>
internal sealed class PostgreSqlDatabaseLock(NpgsqlConnection session) : IDisposable
{
    /// <summary>Takes the lock of <paramref name="connection"/>'s database for the store of <paramref name="pluginId"/>.</summary>
    /// <exception cref="InvalidOperationException">Another session holds it, or the database could not be reached to take it.</exception>
    public static PostgreSqlDatabaseLock Take(string connection, string pluginId, TimeSpan timeout)
    {
        var builder = new NpgsqlConnectionStringBuilder(connection)
        {
            // A pooled connection would go back to the pool, not end its session, when closed: the lock would stay.
            Pooling = false,
            Timeout = Seconds(timeout),
            CommandTimeout = Seconds(timeout),
        };
        // Host, port and database only: the connection string may hold a password.
        var database = $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
        var session = new NpgsqlConnection(builder.ConnectionString);
        var held = false;
        try
        {
            // Synchronous: the store is made in a synchronous setup at start, which must fail before the app serves.
            session.Open();
            using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", session);
            command.Parameters.AddWithValue("key", KeyOf(pluginId));
            held = command.ExecuteScalar() is true;
            return held ? new PostgreSqlDatabaseLock(session) : throw DatabaseLock.HeldElsewhere(database);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The exception by its type only: a server's message may quote the connection's settings.
            throw new InvalidOperationException($"The token database {database} could not be reached to lock it for this " +
                $"process ({e.GetType().Name}); the store does not start without knowing it is the database's only user.", e);
        }
        finally
        {
            if (!held) session.Dispose();
        }
    }

    /// <summary>The advisory lock's key: the first 8 bytes of SHA-256 of the plugin id, so another app's locks hardly collide.</summary>
    internal static long KeyOf(string pluginId) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("O8Actors.Persistence/" + pluginId)), 0);

    private static int Seconds(TimeSpan timeout) => (int)Math.Clamp(Math.Ceiling(timeout.TotalSeconds), 1, 1024);

    /// <summary>Ends the session, which releases the lock.</summary>
    public void Dispose() => session.Dispose();
}
