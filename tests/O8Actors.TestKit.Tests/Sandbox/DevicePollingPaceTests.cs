using System.Net;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// The sandbox holds device-flow clients to their polling interval (RFC 8628 section 3.5), played by a raw client on
/// the sandbox's fake clock: a poll sooner than the interval since the previous one (for the first poll, since the
/// device code was issued: the client waits the interval between its requests) gets <c>slow_down</c> and raises
/// that device code's interval by 5 seconds, as a scripted <c>slow_down</c> does. Polls at the interval, or up to a
/// fifth early (timer jitter), are never penalised, and one device code's pace is not another's.
/// </summary>
public sealed class DevicePollingPaceTests : SandboxEndpointTest
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override void Configure(SandboxOptions options)
    {
        options.DevicePollInterval = Interval;
        options.DeviceUsers = info => info.LoginHint switch
        {
            "patient" => SandboxDeviceUser.Approve("patient", pendingPolls: 4),
            _ => SandboxDeviceUsers.ByLoginHint(info),
        };
    }

    [Fact]
    public async Task A_poll_sooner_than_the_interval_gets_slow_down_and_the_interval_grows_five_seconds_each_time()
    {
        var deviceCode = await DeviceCodeAsync("alice");
        Time.Advance(Interval);
        Assert.Equal("authorization_pending", (await PollAsync(deviceCode)).Error);

        var hasty = await PollAsync(deviceCode);                                    // at once

        Assert.Equal(HttpStatusCode.BadRequest, hasty.Status);
        Assert.Equal("slow_down", hasty.Error);
        Time.Advance(TimeSpan.FromSeconds(7));                                      // the interval is 10 s now: too soon still
        Assert.Equal("slow_down", (await PollAsync(deviceCode)).Error);
        Time.Advance(TimeSpan.FromSeconds(12));                                     // 15 s now; 80 % of it is enough
        var tokens = await PollAsync(deviceCode);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.NotNull(tokens.AccessToken);
        Assert.Equal(2, Server.Counters.Errors("slow_down"));
    }

    [Fact]
    public async Task A_poll_right_after_the_code_is_issued_gets_slow_down_and_the_raised_interval_holds()
    {
        var deviceCode = await DeviceCodeAsync("alice");

        var hasty = await PollAsync(deviceCode);                                    // at once: no interval waited

        Assert.Equal(HttpStatusCode.BadRequest, hasty.Status);
        Assert.Equal("slow_down", hasty.Error);
        Time.Advance(Interval);                                                     // the interval is 10 s now: too soon still
        Assert.Equal("slow_down", (await PollAsync(deviceCode)).Error);
        Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("authorization_pending", (await PollAsync(deviceCode)).Error);
        Assert.Equal(2, Server.Counters.Errors("slow_down"));
    }

    [Fact]
    public async Task A_first_poll_a_fifth_early_after_the_code_is_issued_is_not_slowed_down()
    {
        var deviceCode = await DeviceCodeAsync("alice");

        Time.Advance(Interval * 0.8);

        Assert.Equal("authorization_pending", (await PollAsync(deviceCode)).Error);
        Assert.Equal(0, Server.Counters.Errors("slow_down"));
    }

    [Fact]
    public async Task A_client_polling_at_the_interval_or_a_fifth_early_is_never_slowed_down()
    {
        var deviceCode = await DeviceCodeAsync("patient");

        foreach (var wait in new[] { 5.0, 4.0, 5.0, 4.5 })
        {
            Time.Advance(TimeSpan.FromSeconds(wait));
            Assert.Equal("authorization_pending", (await PollAsync(deviceCode)).Error);
        }

        Time.Advance(TimeSpan.FromSeconds(4));
        Assert.NotNull((await PollAsync(deviceCode)).AccessToken);
        Assert.Equal(0, Server.Counters.Errors("slow_down"));
    }

    [Fact]
    public async Task A_scripted_slow_down_raises_the_interval_the_server_then_holds_the_client_to()
    {
        var deviceCode = await DeviceCodeAsync("slow-sam");                        // two scripted slow_downs
        Time.Advance(Interval);
        Assert.Equal("slow_down", (await PollAsync(deviceCode)).Error);

        Time.Advance(Interval);                                                     // the old interval: too soon for 10 s

        Assert.Equal("slow_down", (await PollAsync(deviceCode)).Error);
        Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("slow_down", (await PollAsync(deviceCode)).Error);            // the script's second one
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.NotNull((await PollAsync(deviceCode)).AccessToken);
        Assert.Equal(3, Server.Counters.Errors("slow_down"));
    }

    [Fact]
    public async Task One_device_codes_pace_is_not_anothers()
    {
        var first = await DeviceCodeAsync("patient");
        var second = await DeviceCodeAsync("patient");
        Time.Advance(Interval);

        Assert.Equal("authorization_pending", (await PollAsync(first)).Error);
        Assert.Equal("authorization_pending", (await PollAsync(second)).Error);
        Assert.Equal("slow_down", (await PollAsync(first)).Error);
        Time.Advance(Interval);
        Assert.Equal("authorization_pending", (await PollAsync(second)).Error);
    }

    private async Task<string> DeviceCodeAsync(string loginHint)
    {
        var (deviceCode, interval) = await Client.DeviceAuthorizationAsync(Sandboxes.PublicClient, loginHint);
        Assert.Equal(Interval, interval);
        return deviceCode;
    }

    private Task<TokenReply> PollAsync(string deviceCode) => Client.PollDeviceAsync(Sandboxes.PublicClient, deviceCode);
}
