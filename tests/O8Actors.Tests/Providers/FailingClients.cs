namespace O8Actors.Tests.Providers;

/// <summary>
/// HTTP clients whose creation fails: it runs on the provider actor's thread, so each failure fails the actor (the
/// registry restarts it ten times a minute, then stops it). The call numbered <c>blockAt</c> first waits for
/// <see cref="Release"/>, holding the actor while others send to it.
/// </summary>
/// <param name="blockAt">The failing call that waits for <see cref="Release"/> before it throws.</param>
/// <param name="only">The provider whose clients fail (null: every client, as through <see cref="IHttpClientFactory"/>).</param>
internal sealed class FailingClients(int blockAt, string? only = null) : IHttpClientFactory
{
    private int _calls;
    private volatile bool _blocked;
    private volatile bool _failing = true;

    /// <summary>Lets the held call go on (and throw).</summary>
    public ManualResetEventSlim Release { get; } = new(false);

    /// <summary>Whether the call numbered <c>blockAt</c> is holding its actor.</summary>
    public bool Blocked => _blocked;

    /// <summary>From now on, clients are made.</summary>
    public void Heal() => _failing = false;

    public HttpClient Create(string provider)
    {
        if (!_failing || only is not null && provider != only) return new HttpClient();
        if (Interlocked.Increment(ref _calls) == blockAt)
        {
            _blocked = true;
            Release.Wait(TimeSpan.FromSeconds(30));
        }
        throw new InvalidOperationException("no client");
    }

    public HttpClient CreateClient(string name) => Create(name);
}
