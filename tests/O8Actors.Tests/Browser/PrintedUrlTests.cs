using O8Actors.Browser;

namespace O8Actors.Tests.Browser;

/// <summary>
/// The URL the launcher prints when no browser opens stays in terminals and captured standard error: a sign-out's
/// end-session URL is printed without its ID token (id_token_hint), and works all the same (client_id stays).
/// </summary>
public sealed class PrintedUrlTests
{
    private const string IdToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.SECRET-id-token-signature";

    [Fact]
    public async Task When_no_opener_works_the_printed_end_session_url_has_no_id_token()
    {
        var endSession = new Uri($"https://provider.test/logout?client_id=app&id_token_hint={IdToken}&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A41539%2F&state=st4te");
        var printed = new StringWriter();
        var launcher = new SystemBrowserLauncher(printed, OpenerEnvironment.WithoutBrowser) { CandidatesOverride = url => [("false", [url])] };

        var result = await launcher.LaunchAsync(endSession, CancellationToken.None);

        Assert.False(result.Launched);
        Assert.DoesNotContain("id_token_hint", printed.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(IdToken, printed.ToString(), StringComparison.Ordinal);
        Assert.Contains("https://provider.test/logout?client_id=app&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A41539%2F&state=st4te",
            printed.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://p.test/logout?id_token_hint=t", "https://p.test/logout")]
    [InlineData("https://p.test/logout?id_token_hint=t&state=s", "https://p.test/logout?state=s")]
    [InlineData("https://p.test/logout?client_id=a&id%5Ftoken%5Fhint=t&id_token_hint=u#f", "https://p.test/logout?client_id=a#f")]
    [InlineData("https://p.test/authorize?state=s&x_id_token_hint=1&login_hint=id_token_hint", "https://p.test/authorize?state=s&x_id_token_hint=1&login_hint=id_token_hint")]
    public void Only_id_token_hint_parameters_are_left_out(string url, string printed) =>
        Assert.Equal(printed, PrintedUrl.Of(url));
}
