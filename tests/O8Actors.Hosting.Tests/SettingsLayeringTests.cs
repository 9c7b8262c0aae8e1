using Akka.Configuration;
using Microsoft.Extensions.Configuration;
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

    [Fact]
    public void An_apps_own_Configure_of_O8Options_applies_on_top_whether_registered_before_or_after_AddOAuthLogins()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Login:ExchangeTimeout"] = "20s";
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.Configure<O8Options>(o => o.Login.Timeout = TimeSpan.FromMinutes(7));
        builder.Services.AddOAuthLogins(o => o.ConfigureSettings(s => s.Tokens.RefreshMargin = TimeSpan.FromMinutes(3)));
        builder.Services.Configure<O8Options>(o => o.Login.MaxPending = 321);
        using var host = builder.Build();

        var options = Settings(host);

        Assert.Equal(TimeSpan.FromMinutes(7), options.Login.Timeout); // before AddOAuthLogins: it was overwritten by the defaults
        Assert.Equal(321, options.Login.MaxPending);
        Assert.Equal(TimeSpan.FromMinutes(3), options.Tokens.RefreshMargin); // the hosting action
        Assert.Equal(TimeSpan.FromSeconds(20), options.Login.ExchangeTimeout); // the O8 section
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

    [Theory]
    [InlineData("O8:Login:Timeout", "120s", 120)]
    [InlineData("O8:Login:Timeout", "2m", 120)]
    [InlineData("O8:Login:Timeout", "00:02:00", 120)]
    [InlineData("O8:Login:ExchangeTimeout", "500ms", 0.5)]
    [InlineData("O8:Tokens:RefreshMargin", "10 minutes", 600)]
    public void Durations_in_configuration_take_the_HOCON_units_and_the_dotnet_form(string key, string value, double seconds)
    {
        var settings = HostedO8.LoopbackSettings();
        settings[key] = value;
        using var host = HostedO8.Build(settings);

        var options = Settings(host);
        var actual = key switch
        {
            "O8:Login:Timeout" => options.Login.Timeout,
            "O8:Login:ExchangeTimeout" => options.Login.ExchangeTimeout,
            _ => options.Tokens.RefreshMargin,
        };
        Assert.Equal(TimeSpan.FromSeconds(seconds), actual);
    }

    [Theory]
    [InlineData("O8:Login:Timeout", "120", "o8.login.timeout")]
    [InlineData("O8:Login:Timeout", "2:00", "o8.login.timeout")]
    [InlineData("O8:Tokens:RefreshMargin", "300", "o8.tokens.refresh-margin")]
    public async Task A_duration_without_its_unit_fails_the_start_showing_both_forms(string key, string value, string hoconKey)
    {
        var settings = HostedO8.LoopbackSettings();
        settings[key] = value;
        using var host = HostedO8.Build(settings);

        var error = await Assert.ThrowsAsync<O8ConfigurationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(hoconKey, error.HoconKey);
        Assert.Contains($"'{value}'", error.Message);
        Assert.Contains("120s", error.Message);
        Assert.Contains("00:02:00", error.Message);
    }
}
