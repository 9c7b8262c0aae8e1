using Akka.Configuration;
using O8Actors.Configuration;

namespace O8Actors.Tests.Configuration;

public sealed class O8OptionsTests
{
    [Fact]
    public void Shipped_defaults_match_the_original_listener()
    {
        var options = O8Options.FromConfig();

        Assert.Equal("https", options.Listener.Scheme);
        Assert.Equal("localhost", options.Listener.Host);
        Assert.Equal(41539, options.Listener.Port);
        Assert.Equal("/", options.Listener.Path);
        Assert.True(options.Login.Pkce);
        Assert.Equal(TimeSpan.FromSeconds(120), options.Login.Timeout);
    }

    [Fact]
    public void Shipped_limits_bound_a_server_and_are_the_code_defaults_too()
    {
        var options = O8Options.FromConfig();

        Assert.Equal(10_000, options.Login.MaxPending);
        Assert.Equal(16, options.Login.MaxPendingPerPartition);
        Assert.Equal(1024, options.Providers.MaxQueuedExchanges);
        // A new O8Options (code, or IConfiguration binding) starts from the same values as the HOCON.
        var code = new O8Options();
        Assert.Equal(options.Login.MaxPending, code.Login.MaxPending);
        Assert.Equal(options.Login.MaxPendingPerPartition, code.Login.MaxPendingPerPartition);
        Assert.Equal(options.Providers.MaxQueuedExchanges, code.Providers.MaxQueuedExchanges);
        Assert.Equal(O8Actors.Providers.ProviderActor.DefaultMaxQueuedExchanges, code.Providers.MaxQueuedExchanges);
    }

    [Fact]
    public void The_limits_are_read_from_hocon_and_layered_over_code()
    {
        var hocon = ConfigurationFactory.ParseString("o8.login.max-pending = 50\no8.login.max-pending-per-partition = 3\no8.providers.max-queued-exchanges = 7");
        var settings = O8Settings.From(O8Settings.Layer(new O8Options(), hocon));

        Assert.Equal(50, settings.Login.MaxPending);
        Assert.Equal(3, settings.Login.MaxPendingPerPartition);
        Assert.Equal(7, settings.MaxQueuedExchanges);
        Assert.Equal(50, settings.ToOptions().Login.MaxPending);
        Assert.Equal(7, settings.ToOptions().Providers.MaxQueuedExchanges);
    }

    [Fact]
    public void The_login_method_ships_as_browser_and_is_read_from_hocon_in_any_case_and_layered_under_code()
    {
        Assert.Equal(LoginMethod.Browser, O8Options.FromConfig().Login.Method);
        var hocon = ConfigurationFactory.ParseString("o8.login.method = AUTO");
        Assert.Equal(LoginMethod.Auto, O8Settings.From(O8Settings.Layer(new O8Options(), hocon)).Login.Method);
        Assert.Equal(LoginMethod.Auto, O8Settings.From(O8Settings.Layer(new O8Options(), hocon)).ToOptions().Login.Method);

        var code = new O8Options { Login = { Method = LoginMethod.Device } };
        Assert.Equal(LoginMethod.Device, O8Settings.From(O8Settings.Layer(code, hocon)).Login.Method);

        // An enum's number or a list of names is not a method's name: refused, as a misspelt name is.
        foreach (var value in new[] { "2", "\"device,auto\"" })
        {
            var refused = Assert.Throws<O8ConfigurationException>(() => O8Options.FromConfig(ConfigurationFactory.ParseString($"o8.login.method = {value}")));
            Assert.Equal("o8.login.method", refused.HoconKey);
        }
    }

    [Fact]
    public void The_refresh_margin_ships_as_five_minutes_and_is_read_from_hocon_and_layered_under_code()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), O8Options.FromConfig().Tokens.RefreshMargin);
        var hocon = ConfigurationFactory.ParseString("o8.tokens.refresh-margin = 90s");

        Assert.Equal(TimeSpan.FromSeconds(90), O8Settings.From(O8Settings.Layer(new O8Options(), hocon)).RefreshMargin);
        var code = new O8Options { Tokens = new TokenOptions { RefreshMargin = TimeSpan.FromSeconds(10) } };
        Assert.Equal(TimeSpan.FromSeconds(10), O8Settings.From(O8Settings.Layer(code, hocon)).RefreshMargin);
        Assert.Equal(TimeSpan.FromSeconds(10), O8Settings.From(code).ToOptions().Tokens.RefreshMargin);
    }

    [Fact]
    public void A_negative_refresh_margin_is_refused_naming_the_setting_both_ways()
    {
        var options = new O8Options { Tokens = new TokenOptions { RefreshMargin = TimeSpan.FromSeconds(-1) } };

        var error = Assert.Throws<O8ConfigurationException>(() => options.Validate());

        Assert.Equal(("o8.tokens.refresh-margin", "O8:Tokens:RefreshMargin"), (error.HoconKey, error.ConfigurationKey));
    }

    [Fact]
    public void User_hocon_overrides_the_defaults()
    {
        var options = O8Options.FromConfig(ConfigurationFactory.ParseString("o8.listener.port = 5000\no8.login.timeout = 5s"));

        Assert.Equal(5000, options.Listener.Port);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Login.Timeout);
        Assert.Equal("https", options.Listener.Scheme);
    }

    [Theory]
    [InlineData("o8.listener.scheme = ftp", "o8.listener.scheme", "O8:Listener:Scheme")]
    [InlineData("o8.listener.port = 70000", "o8.listener.port", "O8:Listener:Port")]
    [InlineData("o8.listener.host = example.com", "o8.listener.host", "O8:Listener:Host")]
    [InlineData("o8.listener.host = \"127.8.9.10\"", "o8.listener.host", "O8:Listener:Host")] // loopback, but not bound
    [InlineData("o8.listener.host = \"::ffff:127.0.0.1\"", "o8.listener.host", "O8:Listener:Host")]
    [InlineData("o8.listener { host = \"[::1]\", bind-ipv6 = off }", "o8.listener.host", "O8:Listener:Host")]
    [InlineData("o8.login.exchange-timeout = 2d", "o8.login.exchange-timeout", "O8:Login:ExchangeTimeout")] // past the HTTP pipeline's day
    [InlineData("o8.login.exchange-timeout = 5ms", "o8.login.exchange-timeout", "O8:Login:ExchangeTimeout")]
    [InlineData("o8.listener.path = callback", "o8.listener.path", "O8:Listener:Path")]
    // Paths a callback's request never arrives with (Kestrel decodes escapes; the URI drops dot segments): every login
    // timed out at a 404 page.
    [InlineData("o8.listener.path = \"/my%20app\"", "o8.listener.path", "O8:Listener:Path")]
    [InlineData("o8.listener.path = \"/oauth/./cb\"", "o8.listener.path", "O8:Listener:Path")]
    [InlineData("o8.listener.path = \"/oauth/../cb\"", "o8.listener.path", "O8:Listener:Path")]
    [InlineData("o8.listener.path = \"/oauth//cb\"", "o8.listener.path", "O8:Listener:Path")]
    [InlineData("o8.listener.path = \"/cb?x=1\"", "o8.listener.path", "O8:Listener:Path")]
    [InlineData("o8.login.timeout = 0s", "o8.login.timeout", "O8:Login:Timeout")]
    [InlineData("o8.login.timeout = 25h", "o8.login.timeout", "O8:Login:Timeout")]
    [InlineData("o8.login.max-pending = 0", "o8.login.max-pending", "O8:Login:MaxPending")]
    [InlineData("o8.login.max-pending-per-partition = 0", "o8.login.max-pending-per-partition", "O8:Login:MaxPendingPerPartition")]
    [InlineData("o8.providers.max-queued-exchanges = -1", "o8.providers.max-queued-exchanges", "O8:Providers:MaxQueuedExchanges")]
    public void Validation_names_the_bad_setting_both_ways(string hocon, string setting, string configurationKey)
    {
        var options = O8Options.FromConfig(ConfigurationFactory.ParseString(hocon));

        var error = Assert.Throws<O8ConfigurationException>(() => options.Validate());
        Assert.Equal(setting, error.HoconKey);
        Assert.Equal(configurationKey, error.ConfigurationKey);
        Assert.Contains($"'{setting}'", error.Message);
        Assert.Contains($"'{configurationKey}'", error.Message);
        Assert.IsAssignableFrom<OAuthFlowException>(error);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/oauth/callback")]
    [InlineData("/oauth/callback/")]
    [InlineData("/my app")]
    [InlineData("/bücher")]
    public void A_callback_path_a_request_arrives_with_as_written_is_accepted(string path)
    {
        var options = O8Options.FromConfig();
        options.Listener.Path = path;

        options.Validate();
    }

    [Theory]
    [InlineData("o8.listener.port = banana", "o8.listener.port", "O8:Listener:Port")]
    [InlineData("o8.login.timeout = banana", "o8.login.timeout", "O8:Login:Timeout")]
    [InlineData("o8.login.pkce = banana", "o8.login.pkce", "O8:Login:Pkce")]
    [InlineData("o8.listener.bind-ipv6 = banana", "o8.listener.bind-ipv6", "O8:Listener:BindIPv6")]
    [InlineData("o8.providers.max-concurrent-exchanges = banana", "o8.providers.max-concurrent-exchanges", "O8:Providers:MaxConcurrentExchanges")]
    [InlineData("o8.login.max-pending = banana", "o8.login.max-pending", "O8:Login:MaxPending")]
    [InlineData("o8.login.max-pending-per-partition = banana", "o8.login.max-pending-per-partition", "O8:Login:MaxPendingPerPartition")]
    [InlineData("o8.providers.max-queued-exchanges = banana", "o8.providers.max-queued-exchanges", "O8:Providers:MaxQueuedExchanges")]
    [InlineData("o8.tokens.refresh-margin = banana", "o8.tokens.refresh-margin", "O8:Tokens:RefreshMargin")]
    [InlineData("o8.login.method = banana", "o8.login.method", "O8:Login:Method")]
    public void A_value_that_does_not_parse_names_its_key_and_quotes_it(string hocon, string setting, string configurationKey)
    {
        var error = Assert.Throws<O8ConfigurationException>(() => O8Options.FromConfig(ConfigurationFactory.ParseString(hocon)));

        Assert.Equal(setting, error.HoconKey);
        Assert.Contains("'banana'", error.Message);
        Assert.Contains($"'{configurationKey}'", error.Message);
    }

    [Theory]
    [InlineData("o8.login.timeout = 120", "o8.login.timeout", "'120'")]
    [InlineData("o8.login.exchange-timeout = 30", "o8.login.exchange-timeout", "'30'")]
    [InlineData("o8.tokens.refresh-margin = 300", "o8.tokens.refresh-margin", "'300'")]
    [InlineData("o8.login.timeout = 0.5", "o8.login.timeout", "'0.5'")]
    public void A_duration_without_its_unit_is_refused_not_read_as_milliseconds(string hocon, string setting, string quoted)
    {
        // HOCON reads a bare 120 as 120 ms: every login would time out before its browser opened.
        var error = Assert.Throws<O8ConfigurationException>(() => O8Options.FromConfig(ConfigurationFactory.ParseString(hocon)));

        Assert.Equal(setting, error.HoconKey);
        Assert.Contains(quoted, error.Message);
        Assert.Contains("with its unit", error.Message);
    }

    [Theory]
    [InlineData("o8.login.timeout = 120s", 120)]
    [InlineData("o8.login.timeout = 2m", 120)]
    [InlineData("o8.login.timeout = 120000ms", 120)]
    [InlineData("o8.login.timeout = \"2 minutes\"", 120)]
    public void A_duration_with_its_unit_is_read(string hocon, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), O8Options.FromConfig(ConfigurationFactory.ParseString(hocon)).Login.Timeout);

    [Theory]
    [InlineData("o8.listener.prot = 1", "o8.listener.prot", "did you mean 'o8.listener.port'")]
    [InlineData("o8.login.timout = 5s", "o8.login.timout", "did you mean 'o8.login.timeout'")]
    [InlineData("o8.login.exchange_timeout = 5s", "o8.login.exchange_timeout", "did you mean 'o8.login.exchange-timeout'")]
    [InlineData("o8.listner { port = 1 }", "o8.listner.port", "did you mean 'o8.listener.port'")]
    [InlineData("o8.colour = blue", "o8.colour", "is not an O8Actors setting")]
    public void An_unknown_key_fails_suggesting_the_nearest_setting(string hocon, string key, string message)
    {
        var error = Assert.Throws<O8ConfigurationException>(() => O8Options.FromConfig(ConfigurationFactory.ParseString(hocon)));

        Assert.Equal(key, error.HoconKey);
        Assert.Contains(message, error.Message);
        // The key is named, not offered as one to set: the fix is another key (or none).
        Assert.StartsWith($"'{key}' ('{error.ConfigurationKey}' in configuration) is not an O8Actors setting", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Set it in", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("?.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Akka_settings_and_the_dispatcher_blocks_are_not_o8_settings_to_check()
    {
        var options = O8Options.FromConfig(ConfigurationFactory.ParseString(
            "akka.loglevel = DEBUG\no8.dispatcher.throughput = 10\no8.flow-dispatcher.throughput = 10\no8.login.pkce = off"));

        Assert.False(options.Login.Pkce);
    }

    [Fact]
    public void The_snapshot_is_not_the_options_object()
    {
        var options = O8Options.FromConfig();
        var settings = O8Settings.From(options);

        options.Login.Pkce = false;
        options.Listener.Port = 1;

        Assert.True(settings.Login.Pkce);
        Assert.Equal(41539, settings.Listener.Port);
        Assert.True(settings.ToOptions().Login.Pkce);
        Assert.NotSame(settings.ToOptions(), settings.ToOptions());
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("[::1]", true)]
    [InlineData("evil.example", false)]
    [InlineData("localhost.evil.example", false)]
    [InlineData("", false)]
    public void Loopback_names(string host, bool expected) => Assert.Equal(expected, LoopbackNames.IsLoopbackHost(host));

    [Theory]
    [InlineData("localhost", true, true)]
    [InlineData("LOCALHOST", false, true)]
    [InlineData("127.0.0.1", false, true)]
    [InlineData("[::1]", true, true)]
    [InlineData("::1", true, true)]
    [InlineData("[::1]", false, false)]
    [InlineData("127.0.0.2", true, false)]
    public void The_listener_serves_only_the_names_of_the_addresses_it_binds(string host, bool bindsIPv6, bool expected) =>
        Assert.Equal(expected, LoopbackNames.IsListenerHost(host, bindsIPv6));
}
