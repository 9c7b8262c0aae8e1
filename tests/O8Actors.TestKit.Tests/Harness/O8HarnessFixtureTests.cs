namespace O8Actors.TestKit.Tests.Harness;

// One source for both xUnit packages (see O8FlowsTestKitTests.cs).

/// <summary><see cref="O8HarnessFixture"/>: one harness started by xUnit and shared by the tests of a class.</summary>
public sealed class O8HarnessFixtureTests(O8HarnessFixture fixture) : IClassFixture<O8HarnessFixture>
{
    [Fact]
    public async Task The_fixture_hands_over_a_started_harness()
    {
        var login = await fixture.Harness.RunAsync(LoginScript.Approve("erin"), cancellationToken: TestRun.Token);

        Assert.IsType<LoginSucceeded>(login.Outcome);
        Assert.Equal("sandbox", fixture.Harness.ProviderName);
    }
}

/// <summary>A fixture subclass changes the options before its harness starts.</summary>
public sealed class ConfiguredHarnessFixture : O8HarnessFixture
{
    protected override void ConfigureHarness(O8TestHarnessOptions options)
    {
        options.ProviderName = "configured";
        options.PlainHttp = true;
    }
}

/// <summary>The subclass's options are the ones the harness runs with.</summary>
public sealed class ConfiguredHarnessFixtureTests(ConfiguredHarnessFixture fixture) : IClassFixture<ConfiguredHarnessFixture>
{
    [Fact]
    public async Task The_harness_runs_with_the_configured_options()
    {
        var login = await fixture.Harness.RunAsync(LoginScript.Deny(), cancellationToken: TestRun.Token);

        Assert.IsType<LoginDenied>(login.Outcome);
        Assert.Equal("configured", fixture.Harness.ProviderName);
        Assert.Equal("http", fixture.Harness.RedirectUri.Scheme);
    }
}
