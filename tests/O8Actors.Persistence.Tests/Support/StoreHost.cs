using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using O8Actors.Hosting;

namespace O8Actors.Persistence.Tests.Support;

/// <summary>
/// Just the store: an actor system with <c>WithOAuthAccountsPersistence</c> and no logins, for tests of the store's
/// contract. The store is made exactly as <c>WithOAuthLogins</c> makes it (from the same setup).
/// </summary>
public sealed class StoreHost : IAsyncDisposable
{
    private readonly IHost _host;
    private string? _ownedFolder;

    private StoreHost(IHost host, ITokenStore store)
    {
        _host = host;
        Store = store;
    }

    /// <summary>The store.</summary>
    public ITokenStore Store { get; }

    /// <summary>The actor system.</summary>
    public Akka.Actor.ActorSystem System => _host.Services.GetRequiredService<Akka.Actor.ActorSystem>();

    /// <summary>
    /// Starts an actor system with the store configured by <paramref name="persistence"/> (and <paramref name="akka"/>,
    /// before it); the store's refusal to be made is thrown, with the host stopped.
    /// </summary>
    public static async Task<StoreHost> StartAsync(Action<O8PersistenceOptions> persistence, string name = "o8-store",
        Func<AkkaConfigurationBuilder, AkkaConfigurationBuilder>? akka = null)
    {
        var made = new TaskCompletionSource<ITokenStore>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddAkka(name, (configuration, services) => (akka?.Invoke(configuration) ?? configuration)
            .WithOAuthAccountsPersistence(persistence)
            .WithActors((system, _) =>
            {
                try
                {
                    made.SetResult(TokenStoreSetup.Resolve(system, services)!);
                }
                catch (InvalidOperationException e)
                {
                    made.SetException(e);
                }
            }));
        var host = builder.Build();
        await host.StartAsync();
        try
        {
            return new StoreHost(host, await made.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        catch
        {
            await host.StopAsync();
            host.Dispose();
            throw;
        }
    }

    /// <summary>Starts the store on SQLite in a temporary folder of its own, deleted with the host.</summary>
    public static async Task<StoreHost> StartOnTemporarySqliteAsync(string folderPrefix)
    {
        var folder = Path.Combine(Path.GetTempPath(), folderPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var host = await StartAsync(o =>
        {
            o.ConnectionString = $"Data Source={Path.Combine(folder, "tokens.db")}";
            o.KeyRingFolder = Path.Combine(folder, "keys");
        });
        host._ownedFolder = folder;
        return host;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        if (_ownedFolder is null) return;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_ownedFolder, recursive: true);
    }
}
