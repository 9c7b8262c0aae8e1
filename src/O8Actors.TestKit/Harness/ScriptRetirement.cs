using System.Collections.Concurrent;

namespace O8Actors.TestKit;

/// <summary>
/// Forgets the script of each login when it ends, for logins the test runs itself from
/// <see cref="O8TestHarness.Request"/>: the harness learns which login plays which script from its authorize URL
/// (<see cref="AuthorizeUrlReadyEvent"/>) and forgets it at its <see cref="LoginEndedEvent"/>. Subscribed to the
/// orchestrator's events; each login's events arrive in order.
/// </summary>
internal sealed class ScriptRetirement(ScriptBook book) : IObserver<LoginEvent>
{
    private readonly ConcurrentDictionary<string, (string Tag, Uri AuthorizeUrl)> _playing = new(StringComparer.Ordinal);

    public void OnNext(LoginEvent value)
    {
        switch (value)
        {
            case AuthorizeUrlReadyEvent ready when book.TagOf(ready.AuthorizeUrl) is { } tag:
                _playing[ready.LoginId] = (tag, ready.AuthorizeUrl);
                break;
            case LoginEndedEvent ended when _playing.TryRemove(ended.LoginId, out var login):
                book.Forget(login.Tag, login.AuthorizeUrl);
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
