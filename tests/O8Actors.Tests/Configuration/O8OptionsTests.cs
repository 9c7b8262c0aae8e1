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
    public void User_hocon_overrides_the_defaults()
    {
        var options = O8Options.FromConfig(ConfigurationFactory.ParseString("o8.listener.port = 5000\no8.login.timeout = 5s"));

        Assert.Equal(5000, options.Listener.Port);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Login.Timeout);
        Assert.Equal("https", options.Listener.Scheme);
    }

    [Theory]
    [InlineData("o8.listener.scheme = ftp", "o8.listener.scheme")]
    [InlineData("o8.listener.port = 70000", "o8.listener.port")]
    [InlineData("o8.listener.host = example.com", "o8.listener.host")]
    [InlineData("o8.listener.path = callback", "o8.listener.path")]
    [InlineData("o8.login.timeout = 0s", "o8.login.timeout")]
    public void Validation_names_the_bad_setting(string hocon, string setting)
    {
        var options = O8Options.FromConfig(ConfigurationFactory.ParseString(hocon));

        var error = Assert.Throws<ArgumentException>(() => options.Validate());
        Assert.Contains(setting, error.Message);
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
}
