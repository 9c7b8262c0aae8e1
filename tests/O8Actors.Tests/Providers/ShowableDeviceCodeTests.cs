using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A device login puts the provider's user code and verification URI before the user (the console prompt, the app's
/// screen, its logs). A hostile or broken provider's text with terminal escapes or line breaks is refused before any
/// login shows it, whichever strategy produced it.
/// </summary>
public sealed class ShowableDeviceCodeTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly Uri Page = new("https://login.example.test/device");

    private async Task<object> RequestAsync(DeviceAuthorization answer)
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        await registry.Ask<ProviderRegistered>(new RegisterProvider(new AnswersDeviceCode(answer)), Wait);
        var login = CreateTestProbe();
        login.Send(registry, new RequestDeviceCode("p", "login-1", [], new Dictionary<string, string>()));
        return login.ReceiveOne(Wait)!;
    }

    [Theory]
    [InlineData("AB\u001b]52;c;ZXZpbA==\u0007CD")]          // a clipboard write (OSC 52)
    [InlineData("WDJB\r\nOpen https://evil.test and enter")] // a forged line
    [InlineData("\u001b[2J\u001b[HWDJB-MJHT")]              // clears the screen
    [InlineData("   ")]
    [InlineData("WDJB-\u202ETHJM")]                          // shown reversed: the screen says WDJB-MJHT
    [InlineData("WDJB\u200B-MJHT")]                          // a zero-width space: looks like the code, is not it
    [InlineData("WDJB\u2028Open https://evil.test and enter")] // the Unicode line separator: a forged line
    [InlineData("WDJB-MJHT\U000E0041")]                      // an invisible tag character, above U+FFFF
    [InlineData("WDJB-\uD800MJHT")]                          // half of a surrogate pair
    public async Task A_user_code_with_control_characters_or_none_fails_the_device_login_unshown(string userCode)
    {
        var failed = Assert.IsType<DeviceCodeRefused>(await RequestAsync(new DeviceAuthorization("device-code", userCode, Page, null,
            TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(5)))).Failure;

        Assert.Equal(LoginFailure.TokenExchange, failed.Failure);
        Assert.Contains("user_code", failed.Reason);
        Assert.DoesNotContain(failed.Reason, char.IsControl);
        Assert.DoesNotContain("device-code", failed.Reason);
    }

    [Fact]
    public async Task A_user_code_no_one_could_type_is_refused()
    {
        var failed = Assert.IsType<DeviceCodeRefused>(await RequestAsync(new DeviceAuthorization("device-code", new string('A', 65), Page, null,
            TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(5)))).Failure;

        Assert.Contains("64 characters", failed.Reason);
    }

    [Fact]
    public async Task A_verification_uri_that_prints_control_characters_is_refused_and_a_complete_one_is_left_out()
    {
        // A raw escape survives in the URI's printed form (Uri.ToString, as the prompt and an app print it).
        var refused = Assert.IsType<DeviceCodeRefused>(await RequestAsync(new DeviceAuthorization("device-code", "WDJB-MJHT",
            new Uri("https://login.example.test/dev\u001b[2Jice"), null, TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(5)))).Failure;
        Assert.Contains("verification_uri", refused.Reason);
        Assert.DoesNotContain(refused.Reason, char.IsControl);

        // A complete URI is optional: one that would print an escape is dropped, and the user types the code.
        var issued = Assert.IsType<DeviceCodeIssued>(await RequestAsync(new DeviceAuthorization("device-code", "WDJB-MJHT", Page,
            new Uri("https://login.example.test/device?user_code=\u001b]52;c;ZXZpbA==\u0007"), TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(5))));
        Assert.Equal("WDJB-MJHT", issued.Authorization.UserCode);
        Assert.Null(issued.Authorization.VerificationUriComplete);
    }

    [Fact]
    public async Task A_percent_escaped_control_character_stays_escaped_and_the_uri_is_shown()
    {
        var escaped = new Uri("https://login.example.test/device%1B%5B2J");

        var issued = Assert.IsType<DeviceCodeIssued>(await RequestAsync(new DeviceAuthorization("device-code", "WDJB-MJHT", escaped, null,
            TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(5))));

        Assert.Equal(escaped, issued.Authorization.VerificationUri);
        Assert.DoesNotContain(issued.Authorization.VerificationUri.ToString(), char.IsControl);
    }

    [Fact]
    public async Task A_usual_user_code_is_shown_as_the_provider_sent_it()
    {
        var issued = Assert.IsType<DeviceCodeIssued>(await RequestAsync(new DeviceAuthorization("device-code", "WDJB-MJHT", Page, null,
            TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(5))));

        Assert.Equal("WDJB-MJHT", issued.Authorization.UserCode);
        Assert.Equal(Page, issued.Authorization.VerificationUri);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task A_lifetime_that_is_not_positive_gets_the_default_so_the_login_has_a_deadline(int seconds)
    {
        // A custom strategy's DeviceAuthorization takes any TimeSpan; the login sets its deadline from it, and a negative
        // delay made the scheduler throw: the login ended as an internal error instead of waiting for the user.
        var issued = Assert.IsType<DeviceCodeIssued>(await RequestAsync(new DeviceAuthorization("device-code", "WDJB-MJHT", Page, null,
            TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(5))));

        Assert.Equal(TimeSpan.FromMinutes(15), issued.Authorization.ExpiresIn);
    }

    /// <summary>An app's own strategy, answering the device authorization with what the test gives it.</summary>
    private sealed class AnswersDeviceCode(DeviceAuthorization answer) : ProviderStrategy
    {
        public override string Name => "p";

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => new("https://login.example.test/authorize");

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            Task.FromResult(new TokenSet("at", "Bearer"));

        public override Task<DeviceAuthorization> RequestDeviceAuthorizationAsync(DeviceAuthorizationContext context, HttpClient http,
            CancellationToken cancellationToken) => Task.FromResult(answer);
    }
}
