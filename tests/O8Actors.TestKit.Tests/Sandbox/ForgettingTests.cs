using System.Net;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// A long-running sandbox forgets what can no longer matter (at the next issue; device codes at the next look-up) and
/// answers the same before and after: expired access tokens, codes a minute after their expiry (never redeemed, or
/// their tokens all expired), device codes likewise, and with <see cref="SandboxOptions.RefreshTokenLifetime"/> refresh
/// tokens past it. A redeemed code is kept while its tokens live, so a late replay (the attack RFC 6749 section 4.1.2
/// answers) still revokes them.
/// </summary>
public sealed class ForgettingTests : SandboxEndpointTest
{
    private static readonly TimeSpan CodeLifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan AccessLifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan RefreshLifetime = TimeSpan.FromHours(8);

    protected override void Configure(SandboxOptions options)
    {
        options.CodeLifetime = CodeLifetime;
        options.AccessTokenLifetime = AccessLifetime;
        options.RefreshTokenLifetime = RefreshLifetime;
        options.DeviceCodeLifetime = TimeSpan.FromMinutes(10);
        options.DevicePollInterval = TimeSpan.FromSeconds(5);
    }

    [Fact]
    public async Task An_expired_access_token_is_forgotten_at_the_next_issue_and_reads_inactive_before_and_after()
    {
        var first = await SignInAsync();
        Time.Advance(AccessLifetime);
        Assert.False(await Client.IntrospectActiveAsync(Sandboxes.PublicClient, first.AccessToken!));
        Assert.Equal(1, Server.HeldAccessTokens);

        var second = await SignInAsync();

        Assert.Equal(1, Server.HeldAccessTokens);                                   // the second login's only
        Assert.False(await Client.IntrospectActiveAsync(Sandboxes.PublicClient, first.AccessToken!));
        Assert.False(Server.IsActive(first.AccessToken!));
        Assert.True(Server.IsActive(second.AccessToken!));
        // The first login's refresh token outlives its access token: it still works.
        Assert.Equal(HttpStatusCode.OK, (await Client.RefreshAsync(Sandboxes.PublicClient, first.RefreshToken!)).Status);
    }

    [Fact]
    public async Task A_code_never_redeemed_reads_expired_for_a_minute_then_is_forgotten()
    {
        var pkce = Pkce.Create();
        var late = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);
        var never = await Client.GetCodeAsync(Sandboxes.PublicClient, Pkce.Create());
        Time.Advance(CodeLifetime + TimeSpan.FromSeconds(1));

        var expired = await Client.ExchangeAsync(Sandboxes.PublicClient, late, pkce);

        Assert.Equal("invalid_grant", expired.Error);
        Assert.Contains("expired", expired.Get("error_description"), StringComparison.Ordinal);
        Time.Advance(TimeSpan.FromSeconds(58));                                     // a second before the window ends
        await Client.GetCodeAsync(Sandboxes.PublicClient, Pkce.Create());              // an issue: a sweep that keeps both
        Assert.Equal(3, Server.HeldCodes);
        Time.Advance(TimeSpan.FromSeconds(1));
        await Client.GetCodeAsync(Sandboxes.PublicClient, Pkce.Create());              // the sweep that forgets them
        Assert.Equal(2, Server.HeldCodes);
        var unknown = await Client.ExchangeAsync(Sandboxes.PublicClient, never, pkce);
        Assert.Equal("invalid_grant", unknown.Error);
        Assert.Contains("unknown", unknown.Get("error_description"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redeemed_code_replayed_long_after_it_expired_still_revokes_the_tokens_it_produced()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);
        var tokens = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
        Time.Advance(TimeSpan.FromMinutes(30));                                     // the code is long dead, its tokens live
        await SignInAsync();                                                        // an issue: the sweep keeps the code

        var replay = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);

        Assert.Equal("invalid_grant", replay.Error);
        Assert.Contains("revoked", replay.Get("error_description"), StringComparison.Ordinal);
        Assert.False(Server.IsActive(tokens.AccessToken!));
        Assert.False(Server.IsRefreshTokenActive(tokens.RefreshToken!));
    }

    [Fact]
    public async Task Once_every_token_of_a_login_has_expired_its_code_and_tokens_are_forgotten()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);
        var initial = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
        Time.Advance(TimeSpan.FromHours(2));
        var rotated = await Client.RefreshAsync(Sandboxes.PublicClient, initial.RefreshToken!);
        Assert.Equal(2, Server.HeldRefreshTokens);                                  // the rotated one too, for replay detection
        Time.Advance(RefreshLifetime);                                              // past the rotated token's lifetime

        await SignInAsync();                                                        // an issue: the sweep

        Assert.Equal(1, Server.HeldCodes);
        Assert.Equal(1, Server.HeldAccessTokens);
        Assert.Equal(1, Server.HeldRefreshTokens);
        var refresh = await Client.RefreshAsync(Sandboxes.PublicClient, rotated.RefreshToken!);
        Assert.Equal("invalid_grant", refresh.Error);
        Assert.Equal("invalid_grant", (await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce)).Error);
    }

    [Fact]
    public async Task A_refresh_token_past_its_lifetime_gets_invalid_grant_and_revokes_nothing()
    {
        var initial = await SignInAsync();
        var rotated = await Client.RefreshAsync(Sandboxes.PublicClient, initial.RefreshToken!);
        Time.Advance(RefreshLifetime - TimeSpan.FromSeconds(1));
        Assert.True(await Client.IntrospectActiveAsync(Sandboxes.PublicClient, rotated.RefreshToken!));
        Time.Advance(TimeSpan.FromSeconds(1));

        var expired = await Client.RefreshAsync(Sandboxes.PublicClient, rotated.RefreshToken!);
        var replayOfExpired = await Client.RefreshAsync(Sandboxes.PublicClient, initial.RefreshToken!);

        Assert.Equal("invalid_grant", expired.Error);
        Assert.Contains("expired", expired.Get("error_description"), StringComparison.Ordinal);
        Assert.False(await Client.IntrospectActiveAsync(Sandboxes.PublicClient, rotated.RefreshToken!));
        // The rotated-away token has expired too: presenting it is no replay any more, so nothing else is revoked.
        Assert.Equal("invalid_grant", replayOfExpired.Error);
        Assert.Equal(0, Server.Counters.FamiliesRevoked);
    }

    [Fact]
    public async Task A_device_code_reads_expired_for_a_minute_after_it_expired_then_is_forgotten()
    {
        var (waiting, _) = await Client.DeviceAuthorizationAsync(Sandboxes.PublicClient, "hang-1");
        Time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal("expired_token", (await Client.PollDeviceAsync(Sandboxes.PublicClient, waiting)).Error);
        Time.Advance(TimeSpan.FromSeconds(59));
        // Every look-up forgets what is due first: this poll is a sweep a second before the window ends.
        Assert.Equal("expired_token", (await Client.PollDeviceAsync(Sandboxes.PublicClient, waiting)).Error);
        Assert.Equal(1, Server.HeldDeviceCodes);
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("invalid_grant", (await Client.PollDeviceAsync(Sandboxes.PublicClient, waiting)).Error);
        Assert.Equal(0, Server.HeldDeviceCodes);
    }

    [Fact]
    public async Task A_thousand_logins_leave_only_the_live_ones_once_time_has_passed()
    {
        for (var i = 0; i < 1000; i++) await SignInAsync();
        Assert.Equal(1000, Server.HeldRefreshTokens);

        Time.Advance(RefreshLifetime);
        await SignInAsync();

        Assert.Equal(1, Server.HeldCodes);
        Assert.Equal(1, Server.HeldAccessTokens);
        Assert.Equal(1, Server.HeldRefreshTokens);
    }

    private async Task<TokenReply> SignInAsync()
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce);
        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.NotNull(reply.RefreshToken);
        return reply;
    }
}
