using O8Actors.Examples.DeviceLogin;

namespace O8Actors.TestKit.Tests.Examples;

/// <summary><c>dotnet run --project examples/DeviceLogin</c>: a device login against the sandbox, with no account.</summary>
[Collection(ClientSecretVariable.Collection)]
public sealed class DeviceLoginExampleTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Prints_the_code_the_uri_and_a_QR_code_then_the_tokens_expiry_and_never_the_token()
    {
        var output = new StringWriter();

        var exit = await DeviceLoginCommand.InvokeAsync([], output).WaitAsync(Wait);

        var text = output.ToString();
        Assert.True(exit == 0, text);
        Assert.Matches(@"open http://127\.0\.0\.1:\d+/device on any device and enter the code [A-Z]{4}-[A-Z]{4}", text);
        Assert.Contains("Or scan this code with a phone:", text);
        Assert.Contains("█", text);
        Assert.Matches(@"Signed in\. The access token expires at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in 60 minutes\)\.", text);
        Assert.DoesNotContain("access_token", text);
    }

    [Fact]
    public async Task A_refusing_user_exits_1_with_the_denial()
    {
        var output = new StringWriter();

        var exit = await DeviceLoginCommand.InvokeAsync(["--user", "deny-me", "--no-qr"], output).WaitAsync(Wait);

        Assert.Equal(1, exit);
        Assert.Contains("Not signed in:", output.ToString());
        Assert.Contains("access_denied", output.ToString());
        Assert.DoesNotContain("█", output.ToString());
    }

    [Fact]
    public async Task A_slow_user_makes_it_back_off_and_say_so()
    {
        var output = new StringWriter();

        var exit = await DeviceLoginCommand.InvokeAsync(["--user", "slow-sam", "--no-qr"], output).WaitAsync(Wait);

        Assert.True(exit == 0, output.ToString());
        Assert.Contains("The provider asked to slow down: polling every 6 s.", output.ToString());
        Assert.Contains("The provider asked to slow down: polling every 11 s.", output.ToString());
    }
}
