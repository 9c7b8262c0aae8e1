using Akka.Configuration;
using O8Actors.Configuration;

namespace O8Actors.Tests.Configuration;

/// <summary><c>o8.listener.start</c>: shipped as at-start, read from HOCON in either spelling, layered under code, checked.</summary>
public sealed class ListenerStartSettingTests
{
    [Fact]
    public void The_listener_start_ships_as_at_start_in_hocon_and_in_code()
    {
        Assert.Equal(ListenerStart.AtStart, O8Options.FromConfig().Listener.Start);
        Assert.Equal(ListenerStart.AtStart, new O8Options().Listener.Start);
    }

    [Theory]
    [InlineData("on-first-use", ListenerStart.OnFirstUse)]
    [InlineData("ON-FIRST-USE", ListenerStart.OnFirstUse)]
    [InlineData("OnFirstUse", ListenerStart.OnFirstUse)]
    [InlineData("while-needed", ListenerStart.WhileNeeded)]
    [InlineData("WhileNeeded", ListenerStart.WhileNeeded)]
    public void Either_spelling_is_read_from_hocon_and_kept_through_the_settings(string value, ListenerStart expected)
    {
        var hocon = ConfigurationFactory.ParseString($"o8.listener.start = {value}");

        var settings = O8Settings.From(O8Settings.Layer(new O8Options(), hocon));

        Assert.Equal(expected, settings.Listener.Start);
        Assert.Equal(expected, settings.ToOptions().Listener.Start);
    }

    [Fact]
    public void A_start_set_in_code_wins_over_hocon()
    {
        var code = new O8Options { Listener = { Start = ListenerStart.OnFirstUse } };

        Assert.Equal(ListenerStart.OnFirstUse, O8Settings.From(O8Settings.Layer(code, ConfigurationFactory.ParseString("o8.listener.start = at-start"))).Listener.Start);
    }

    [Theory]
    [InlineData("banana")]
    [InlineData("1")]
    [InlineData("\"at-start,on-first-use\"")]
    public void Anything_else_is_refused_naming_the_setting_both_ways(string value)
    {
        var error = Assert.Throws<O8ConfigurationException>(() => O8Options.FromConfig(ConfigurationFactory.ParseString($"o8.listener.start = {value}")));

        Assert.Equal("o8.listener.start", error.HoconKey);
        Assert.Equal("O8:Listener:Start", error.ConfigurationKey);
        Assert.Contains("at-start, on-first-use or while-needed", error.Message);
    }

    [Fact]
    public void A_misspelt_key_suggests_the_setting()
    {
        var error = Assert.Throws<O8ConfigurationException>(() => O8Options.FromConfig(ConfigurationFactory.ParseString("o8.listener.strat = on-first-use")));

        Assert.Contains("did you mean 'o8.listener.start'", error.Message);
    }

    [Fact]
    public void An_undefined_value_set_in_code_is_refused()
    {
        var error = Assert.Throws<O8ConfigurationException>(() => new O8Options { Listener = { Start = (ListenerStart)7 } }.Validate());

        Assert.Equal("o8.listener.start", error.HoconKey);
    }

    [Theory]
    [InlineData(ListenerStart.OnFirstUse)]
    [InlineData(ListenerStart.WhileNeeded)]
    public void Binding_when_needed_is_refused_in_server_mode_where_nothing_is_bound(ListenerStart start)
    {
        var options = new O8Options
        {
            Listener = { Start = start, ExternalRedirectUri = new Uri("https://app.example.com/oauth/callback") },
        };

        var error = Assert.Throws<O8ConfigurationException>(() => options.Validate());

        Assert.Equal("o8.listener.start", error.HoconKey);
        Assert.Contains("server mode", error.Message);
    }
}
