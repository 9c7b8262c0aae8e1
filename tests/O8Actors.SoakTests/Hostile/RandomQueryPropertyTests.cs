using FsCheck;
using FsCheck.Fluent;
using O8Actors.SoakTests.Support;

namespace O8Actors.SoakTests.Hostile;

/// <summary>
/// Property: whatever query string a stranger sends to the callback path, it never completes or fails a login it does
/// not own. Generated queries mix OAuth parameter names, near misses and junk with random values and altered copies
/// of live logins' states; the live logins must stay untouched and complete normally afterwards.
/// </summary>
public sealed class RandomQueryPropertyTests
{
    [Fact]
    public async Task Random_query_strings_never_complete_or_fail_a_login_they_do_not_own()
    {
        await using var env = await HostileEnvironment.StartAsync(liveLogins: 6);
        var answers = new List<int>();

        async Task<bool> StrangerAsync(RandomQuery query)
        {
            var target = env.CallbackPath + "?" + query.Render(env.Live);
            var response = await env.Listener.GetAsync(target);
            lock (answers) answers.Add(response.Status);
            // 400 (not a callback, or nobody's state), or Kestrel refusing a malformed request line; never a page of a login.
            return response.Status is 400 or 414 && !env.Live.Any(l => l.Outcome.IsCompleted);
        }

        Prop.ForAll(RandomQueries.Queries(), (RandomQuery query) => StrangerAsync(query))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(200).WithQuietOnSuccess(true));

        Assert.Equal(200, answers.Count);
        env.AssertLiveUndisturbed();
        Assert.Equal(env.Live.Count, await env.InFlightAsync());
        Assert.Empty(env.Logs.Failures);
        await env.CompleteLiveAsync();
    }
}
