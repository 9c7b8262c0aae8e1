using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using O8Actors.Configuration;
using O8Actors.Hosting.Tests.Support;

namespace O8Actors.Hosting.Tests;

/// <summary>
/// What <c>O8HostingOptions.Hocon</c> and the durations of the <c>O8</c> section mean once they reach <see cref="O8Options"/>.
/// </summary>
public sealed class SettingsLayeringTests
{
    private static O8Options Settings(IHost host) => host.Services.GetRequiredService<IOptions<O8Options>>().Value;

    [Fact]
    public void The_hosting_HOCON_sets_the_token_refresh_margin()
    {
        using var host = HostedO8.Build(HostedO8.LoopbackSettings(), o => o.Hocon = ConfigurationFactory.ParseString("o8.tokens.refresh-margin = 30s"));

        Assert.Equal(TimeSpan.FromSeconds(30), Settings(host).Tokens.RefreshMargin);
    }

    [Theory]
    [InlineData("o8.dispatcher.throughput = 5", "o8.dispatcher")]
    [InlineData("o8.flow-dispatcher { throughput = 5 }", "o8.flow-dispatcher")]
    public async Task A_dispatcher_block_in_the_hosting_HOCON_fails_the_start_naming_where_it_belongs(string hocon, string block)
    {
        using var host = HostedO8.Build(HostedO8.LoopbackSettings(), o => o.Hocon = ConfigurationFactory.ParseString(hocon));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains($"'{block}'", error.Message);
        Assert.Contains("actor system's HOCON", error.Message);
    }
}
