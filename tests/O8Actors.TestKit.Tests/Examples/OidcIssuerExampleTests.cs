using O8Actors.Examples.OidcIssuer;

namespace O8Actors.TestKit.Tests.Examples;

/// <summary>The second provider example: an OpenID Connect provider configured from its issuer URL alone.</summary>
public sealed class OidcIssuerExampleTests
{
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
