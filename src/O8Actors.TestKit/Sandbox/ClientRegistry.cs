using System.Collections.Concurrent;

namespace O8Actors.TestKit.Sandbox;

/// <summary>Registered clients, by id. Thread-safe; clients can be added while the server runs.</summary>
internal sealed class ClientRegistry
{
    private readonly ConcurrentDictionary<string, SandboxClient> _clients = new(StringComparer.Ordinal);

    public void Add(SandboxClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.Validate();
        if (!_clients.TryAdd(client.ClientId, client))
        {
            throw new InvalidOperationException($"Client '{client.ClientId}' is already registered.");
        }
    }

    public SandboxClient? Find(string? clientId) =>
        clientId is not null && _clients.TryGetValue(clientId, out var client) ? client : null;
}
