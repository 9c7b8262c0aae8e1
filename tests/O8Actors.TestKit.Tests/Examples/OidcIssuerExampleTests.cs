using O8Actors.Examples.OidcIssuer;

namespace O8Actors.TestKit.Tests.Examples;

/// <summary>The second provider example: an OpenID Connect provider configured from its issuer URL alone.</summary>
[Collection(ClientSecretVariable.Collection)]
public sealed class OidcIssuerExampleTests
{
    [Fact]
    public async Task Two_sandbox_runs_at_once_each_take_a_free_port()
    {
        var outputs = new[] { new StringWriter(), new StringWriter() };

        var exits = await Task.WhenAll(outputs.Select(o => OidcIssuerCommand.InvokeAsync(["--sandbox", "--timeout", "30"], o)));

        Assert.True(exits.All(e => e == 0), string.Join("\n---\n", outputs.Select(o => o.ToString())));
    }

    [Theory]
    [InlineData("login.example.com")] // no scheme
    [InlineData("http://idp.example.com")] // not https
    public async Task An_issuer_that_is_not_an_https_url_is_refused_with_its_reason_and_exit_1(string issuer)
    {
        var output = new StringWriter();

        var exit = await OidcIssuerCommand.InvokeAsync(["--issuer", issuer, "--client-id", "x", "--http", "--port", "0"], output);

        Assert.Equal(1, exit);
        Assert.StartsWith("Not signed in: ", output.ToString().Split('\n').Last(l => l.Length > 0));
        Assert.DoesNotContain("   at ", output.ToString()); // no stack trace
    }

    [Fact]
    public async Task Signs_in_against_the_sandbox_from_its_issuer_url()
    {
        var output = new StringWriter();

        var exit = await OidcIssuerCommand.InvokeAsync(["--sandbox", "--port", "0", "--timeout", "30"], output);

        Assert.True(exit == 0, output.ToString());
        Assert.Contains("Signed in at http://127.0.0.1:", output.ToString());
        Assert.Contains("HasIdToken = True", output.ToString());
        // Then it reads the user's claims from the provider's UserInfo endpoint: the account's key is their subject.
        Assert.Matches(@"UserInfo of OAuthAccount \{ Provider = oidc, Key = (\S+) \}: sub = \1, \d+ claims", output.ToString());
    }

    [Fact]
    public async Task Without_an_issuer_it_says_what_is_missing_and_exits_1()
    {
        var output = new StringWriter();

        var exit = await OidcIssuerCommand.InvokeAsync(["--client-id", "x"], output);

        Assert.Equal(1, exit);
        Assert.Contains("Give --issuer and --client-id", output.ToString());
    }
}
