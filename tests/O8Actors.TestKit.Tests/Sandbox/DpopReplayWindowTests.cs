using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// Replay of a DPoP proof over HTTP while the cache forgets older identifiers: within the proof's <c>iat</c> window its
/// <c>jti</c> is still refused; after it, the proof is refused for its age.
/// </summary>
public sealed class DpopReplayWindowTests : DpopSandboxEndpointTest
{
    protected override void Configure(SandboxOptions options)
    {
        base.Configure(options);
        options.RequireDpopNonce = false;
    }

    [Fact]
    public async Task A_proof_replayed_within_its_window_is_refused_as_used_and_after_it_as_too_old()
    {
        var proof = Probe.Proof(nonce: null);
        Assert.Equal("invalid_grant", (await Probe.SendAsync(proof)).Reply.Error);
        Time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal("invalid_grant", await Probe.ErrorWithNonceAsync(null));        // a fresh proof: the cache prunes as it goes

        var withinWindow = (await Probe.SendAsync(proof)).Reply;

        Assert.Equal("invalid_dpop_proof", withinWindow.Error);
        Assert.Contains("used before", withinWindow.Get("error_description"));
        Time.Advance(TimeSpan.FromMinutes(2));
        var afterWindow = (await Probe.SendAsync(proof)).Reply;
        Assert.Equal("invalid_dpop_proof", afterWindow.Error);
        Assert.Contains("iat", afterWindow.Get("error_description"));
    }
}
