using O8Actors.TestKit.Sandbox;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Harness;

/// <summary>
/// A harness that runs many logins does not grow with them: the script of each login is forgotten once it has ended,
/// whether the harness ran it or the test ran <see cref="O8TestHarness.Request"/> itself, pushed (RFC 9126) or not.
/// </summary>
public sealed class LongLivedHarnessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_scripts_of_ended_logins_are_forgotten(bool pushed)
    {
        await using var o8 = await O8TestHarness.StartAsync(o =>
        {
            if (pushed) o.ConfigureSandbox = sandbox => sandbox.PushedAuthorization = SandboxPushedAuthorization.Required;
        });

        var results = await o8.RunManyAsync([LoginScript.Approve("alice"), LoginScript.Deny(), LoginScript.Approve("bob")], 2).WaitAsync(Wait);
        var own = await o8.Logins.RunAsync(o8.ProviderName, o8.Request(LoginScript.Approve("carol"))).WaitAsync(Wait);

        Assert.All(results, r => Assert.True(r.MatchesScript));
        Assert.IsType<LoginSucceeded>(own);
        await Eventually.TrueAsync(() => o8.ScriptsHeld == 0, "the harness forgot the scripts of the ended logins", Wait);
    }
}
