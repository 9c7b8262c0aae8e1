using System.Net;
using Microsoft.Extensions.Time.Testing;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// The sandbox's DPoP nonce changes every <see cref="SandboxOptions.DpopNonceLifetime"/> (RFC 9449 section 8): proofs
/// may carry the current nonce or the one before it; an older one is answered <c>use_dpop_nonce</c> with the new nonce,
/// and O8Actors' client retries once with it, at the token endpoint and at a resource, so logins and refreshes go on.
/// </summary>
public sealed class DpopNonceRotationTests : DpopSandboxEndpointTest
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    protected override void Configure(SandboxOptions options)
    {
        base.Configure(options);
        options.DpopNonceLifetime = Lifetime;
    }

    [Fact]
    public async Task The_nonce_changes_each_lifetime_and_the_current_and_previous_ones_are_accepted_only()
    {
        var first = await Probe.NonceAsync();
        Time.Advance(Lifetime / 2);
        Assert.Equal(first, await Probe.NonceAsync());

        Time.Advance(Lifetime / 2);
        var second = await Probe.NonceAsync();

        Assert.NotEqual(first, second);
        Assert.Equal("invalid_grant", await Probe.ErrorWithNonceAsync(first));     // the previous one: still good
        Assert.Equal("invalid_grant", await Probe.ErrorWithNonceAsync(second));

        Time.Advance(Lifetime);
        var (refused, third) = await Probe.SendAsync(Probe.Proof(first));          // two changes old

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("use_dpop_nonce", refused.Error);
        Assert.NotNull(third);
        Assert.NotEqual(second, third);
        Assert.NotEqual(first, third);
        Assert.Equal("invalid_grant", await Probe.ErrorWithNonceAsync(third));
        Assert.Equal("invalid_grant", await Probe.ErrorWithNonceAsync(second));
    }

    [Fact]
    public async Task After_a_quiet_spell_longer_than_two_lifetimes_the_old_nonce_is_refused_with_the_new_one()
    {
        var old = await Probe.NonceAsync();
        Time.Advance(3 * Lifetime);

        var (refused, given) = await Probe.SendAsync(Probe.Proof(old));

        Assert.Equal("use_dpop_nonce", refused.Error);
        Assert.NotEqual(old, given);
        Assert.Equal("invalid_grant", await Probe.ErrorWithNonceAsync(given));
    }

    [Fact]
    public async Task A_lifetime_that_is_not_positive_is_refused_at_start()
    {
        var options = new SandboxOptions { DpopNonceLifetime = TimeSpan.Zero };

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => SandboxAuthorizationServer.StartAsync(options));

        Assert.Equal("DpopNonceLifetime", refused.ParamName);
    }

    [Fact]
    public async Task O8Actors_refreshes_and_calls_the_API_after_its_nonce_expired_retrying_once_with_the_new_one()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var o8 = await O8TestHarness.StartAsync(new O8TestHarnessOptions
        {
            UseDpop = true,
            ConfigureSandbox = sandbox =>
            {
                sandbox.TimeProvider = time;
                sandbox.DpopNonceLifetime = TimeSpan.FromSeconds(30);
            },
        });
        var (account, tokens) = await HarnessAccounts.SignInAsync(o8);
        Assert.Equal(1, o8.Sandbox.Counters.Errors("use_dpop_nonce"));            // the code exchange learnt the nonce

        // Past two lifetimes: the nonce the client holds is no longer accepted.
        time.Advance(TimeSpan.FromSeconds(61));
        var renewed = await o8.Logins.GetAccessTokenAsync(account, options: new AccessTokenOptions(ForceRefresh: true)).WaitAsync(Wait);

        Assert.NotEqual(tokens.AccessToken, renewed.Token);
        Assert.Equal(1, o8.Sandbox.Counters.Refreshes);
        Assert.Equal(2, o8.Sandbox.Counters.Errors("use_dpop_nonce"));            // refused once, then sent with the new one

        using var api = new HttpClient(new AccessTokenHandler(o8.Logins, account) { InnerHandler = new SocketsHttpHandler() });
        using (var first = await api.GetAsync(o8.Sandbox.UserInfoEndpoint).WaitAsync(Wait))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var afterFirstCall = o8.Sandbox.Counters.Errors("use_dpop_nonce");
        time.Advance(TimeSpan.FromSeconds(61));

        using var second = await api.GetAsync(o8.Sandbox.UserInfoEndpoint).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(afterFirstCall + 1, o8.Sandbox.Counters.Errors("use_dpop_nonce"));
    }
}
