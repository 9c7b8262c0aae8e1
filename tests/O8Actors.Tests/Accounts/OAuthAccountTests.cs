namespace O8Actors.Tests.Accounts;

/// <summary>
/// An account's id must name one account only. A lone surrogate escapes (and is written as JSON) as U+FFFD, so the keys
/// "x\uD800" and "x\uFFFD" had one id: one file of the file store, one register of the persistence store.
/// </summary>
public sealed class OAuthAccountTests : IDisposable
{
    private const string LoneSurrogate = "x\uD800";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-account-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_key_with_a_lone_surrogate_is_refused_so_it_cannot_reach_the_file_of_the_key_it_would_escape_as()
    {
        var store = new FileTokenStore(_folder);
        var first = new OAuthAccount("github", "x\uFFFD");
        await store.SaveAsync(first, new TokenSet("access-of-the-first", "Bearer"), 0);

        var error = Assert.Throws<ArgumentException>(() => new OAuthAccount("github", LoneSurrogate));

        Assert.Equal("Key", error.ParamName);
        Assert.DoesNotContain("\uD800", error.Message, StringComparison.Ordinal);
        Assert.Equal("access-of-the-first", (await store.LoadAsync(first))!.Tokens.AccessToken);
    }

    [Fact]
    public void A_provider_or_a_copy_with_a_lone_surrogate_is_refused_and_well_formed_pairs_are_kept_apart()
    {
        Assert.Equal("Provider", Assert.Throws<ArgumentException>(() => new OAuthAccount("git\uDC00hub", "alice")).ParamName);
        var alice = new OAuthAccount("github", "alice");
        Assert.Throws<ArgumentException>(() => alice with { Key = "\uDFFF" + "alice" });

        // A surrogate pair is one character, not ill-formed: an emoji key is an account of its own.
        var emoji = new OAuthAccount("github", "x\uD83D\uDE00");
        Assert.NotEqual(new OAuthAccount("github", "x\uFFFD").Id, emoji.Id);
        Assert.Equal(("github", "x\uD83D\uDE00"), (emoji.Provider, emoji.Key));
    }

    [Fact]
    public void A_login_with_an_ill_formed_account_key_is_refused_before_it_starts_not_after_the_user_signed_in()
    {
        var request = new AuthorizationRequest { AccountKey = LoneSurrogate };

        var error = Assert.Throws<ArgumentException>(() => AuthorizationRequest.ThrowIfInvalid(request, "request"));

        Assert.Equal("request", error.ParamName);
        AuthorizationRequest.ThrowIfInvalid(new AuthorizationRequest { AccountKey = "x\uFFFD" }, "request");
    }
}
