namespace O8Actors.TestKit;

/// <summary>
/// Forgets the script of each login when it ends, for logins the test runs itself from
/// <see cref="O8TestHarness.Request"/>. Subscribed to the orchestrator's events, where each login's events arrive in
/// order: its first, <see cref="LoginStartedEvent"/>, names the tag it plays (its <c>login_hint</c>), and its last,
/// <see cref="LoginEndedEvent"/>, retires it. Nothing between is needed, so a login that ends before its authorize URL
/// is ready, or whose pushed request (RFC 9126) a browser spent before this saw that URL, is retired all the same.
/// </summary>
/// <remarks>
/// One request may start several logins at once (an app that hands it to two callers): the script is held until the
/// last of them has ended, so each plays it. Events arrive one at a time (one subscriber actor), so the tables need no lock.
/// </remarks>
internal sealed class ScriptRetirement(ScriptBook book) : IObserver<LoginEvent>
{
    private readonly Dictionary<string, string> _playing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _loginsPlaying = new(StringComparer.Ordinal);

    public void OnNext(LoginEvent value)
    {
        switch (value)
        {
            // Only a script still held: the harness's own runs may already have forgotten theirs.
            case LoginStartedEvent { LoginHint: { } tag } started when book.Holds(tag):
                _playing[started.LoginId] = tag;
                _loginsPlaying[tag] = _loginsPlaying.GetValueOrDefault(tag) + 1;
                break;
            case LoginEndedEvent ended when _playing.Remove(ended.LoginId, out var tag):
                var left = _loginsPlaying.GetValueOrDefault(tag) - 1;
                if (left > 0)
                {
                    _loginsPlaying[tag] = left;
                    break;
                }

                _loginsPlaying.Remove(tag);
                book.Forget(tag);
                break;
        }
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }
}
