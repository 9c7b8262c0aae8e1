namespace O8Actors.Tests.Providers;

/// <summary>
/// HTTP clients whose creation fails: it runs on the provider actor's thread, so each failure fails the actor (the
/// registry restarts it ten times a minute, then stops it). A failed actor's mailbox is suspended until its supervisor
/// decides, so requests sent to it after the one it fails on wait there, and reach dead letters when it is stopped.
/// </summary>
/// <param name="only">The provider whose clients fail (null: every client, as through <see cref="IHttpClientFactory"/>).</param>
internal sealed class FailingClients(string? only = null) : IHttpClientFactory
{
    private volatile bool _failing = true;

    /// <summary>From now on, clients are made.</summary>
    public void Heal() => _failing = false;

    public HttpClient Create(string provider) =>
        !_failing || only is not null && provider != only ? new HttpClient() : throw new InvalidOperationException("no client");

    public HttpClient CreateClient(string name) => Create(name);
}
