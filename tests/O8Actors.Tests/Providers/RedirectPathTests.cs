using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// Each provider's own redirect path (RFC 9700 section 4.4.2): the default, a configured one, the authorize URL and
/// exchange that carry it, and the warning when providers share a path without an issuer to tell them apart.
/// </summary>
public sealed class RedirectPathTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly Uri ListenerUri = new("https://localhost:41539/");

    private IActorRef Registry(string callbackPath = "/") =>
        Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30), callbackPath: callbackPath));

    private static Task<ProviderRegistered> Register(IActorRef registry, ProviderStrategy strategy) =>
        registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait);

    private static async Task<string> PathOf(IActorRef registry, string provider) =>
        (await registry.Ask<RedirectPathIs>(new GetRedirectPath(provider), Wait)).Path;

    [Theory]
    [InlineData("/", "/github")]
    [InlineData("/oauth/callback", "/oauth/callback/github")]
    [InlineData("/oauth/callback/", "/oauth/callback/github")]
    public async Task By_default_a_provider_gets_the_callback_path_followed_by_its_name(string callbackPath, string expected)
    {
        var registry = Registry(callbackPath);
        await Register(registry, new ScriptedStrategy("github"));

        Assert.Equal(expected, await PathOf(registry, "github"));
    }

    [Theory]
    [InlineData("/", "Azure AD", null, "/Azure AD")]
    [InlineData("/oauth/callback", "Zürich 東京", null, "/oauth/callback/Zürich 東京")]
    [InlineData("/", "a+b", null, "/a+b")]
    [InlineData("/", "entra:contoso", null, "/entra:contoso")]
    [InlineData("/", "50%", null, "/50%")]
    [InlineData("/", "tenant/one", null, "/tenant%2Fone")] // Kestrel leaves %2F encoded, so that it is no separator
    [InlineData("/oauth/callback", "any", "/oauth/callback/my app", "/oauth/callback/my app")]
    public void A_callback_arrives_with_the_decoded_redirect_path_which_the_listener_serves(string callbackPath, string provider, string? configured,
        string arrives)
    {
        var uri = O8Actors.Callback.RedirectPaths.WithPath(ListenerUri, O8Actors.Callback.RedirectPaths.For(callbackPath, provider, configured));

        Assert.Equal(arrives, O8Actors.Callback.RedirectPaths.RequestPathOf(uri));
        Assert.True(O8Actors.Callback.RedirectPaths.IsWithin(callbackPath, arrives));
    }

    [Fact]
    public async Task The_authorize_url_and_the_login_get_the_providers_own_redirect_uri()
    {
        var registry = Registry();
        await Register(registry, new ScriptedStrategy("github"));
        await Register(registry, new ScriptedStrategy("legacy") { OwnRedirectPath = "/", Issuer = "https://legacy.test" });

        registry.Tell(new PrepareAuthorization("github", "l1", "s1", null, ListenerUri, [], new Dictionary<string, string>()));
        var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.Equal(new Uri("https://localhost:41539/github"), prepared.RedirectUri);
        Assert.Contains("redirect_uri=" + Uri.EscapeDataString("https://localhost:41539/github"), prepared.AuthorizeUrl.Query);

        registry.Tell(new PrepareAuthorization("legacy", "l2", "s2", null, ListenerUri, [], new Dictionary<string, string>()));
        Assert.Equal(ListenerUri, ExpectMsg<AuthorizationPrepared>(Wait).RedirectUri);
    }

    [Fact]
    public async Task Each_listener_uri_gets_its_own_providers_redirect_uri_when_logins_alternate_between_them()
    {
        // The provider builds its redirect URI once per listener URI and reuses it; logins that come with another
        // listener's URI (a cluster node's, or the listener's after a restart on another port) must still get theirs.
        var registry = Registry();
        await Register(registry, new ScriptedStrategy("github"));
        var other = new Uri("http://127.0.0.1:50123/");
        var otherPort = new Uri("https://localhost:41540/");

        foreach (var (listener, expected) in new[]
                 {
                     (ListenerUri, "https://localhost:41539/github"), (ListenerUri, "https://localhost:41539/github"),
                     (other, "http://127.0.0.1:50123/github"), (ListenerUri, "https://localhost:41539/github"),
                     (otherPort, "https://localhost:41540/github"),
                 })
        {
            registry.Tell(new PrepareAuthorization("github", "l", "s", null, listener, [], new Dictionary<string, string>()));
            var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
            Assert.Equal(expected, prepared.RedirectUri.AbsoluteUri);
            Assert.Contains("redirect_uri=" + Uri.EscapeDataString(expected), prepared.AuthorizeUrl.Query);
        }
    }

    [Theory]
    [InlineData("/elsewhere/github")]
    [InlineData("relative")]
    [InlineData("/oauth/callback/../github")]
    [InlineData("/oauth/callback/github?x=1")]
    public async Task A_redirect_path_outside_the_callback_path_or_malformed_is_refused_at_registration(string path)
    {
        var registry = Registry("/oauth/callback");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Register(registry, new ScriptedStrategy("github") { OwnRedirectPath = path }));
        Assert.Contains($"'{path}'", error.Message);
        await Assert.ThrowsAsync<UnknownProviderException>(() => PathOf(registry, "github"));
    }

    /// <summary>
    /// The listener passes a callback's path on cleaned of control characters and cut to 512 characters (outside input),
    /// and the login compares it exactly with its provider's path: a provider whose path would arrive altered would fail
    /// every callback as a mix-up, so it is refused when it registers, with the reason.
    /// </summary>
    [Theory]
    [InlineData("acme\tprod", false)] // a control character in the name, so in the default path
    [InlineData("acme\u007Fprod", false)]
    [InlineData("github", true)] // a configured path over 512 characters
    public async Task A_provider_whose_callbacks_would_arrive_on_an_altered_path_is_refused_at_registration(string name, bool longPath)
    {
        var registry = Registry("/oauth/callback");
        var ownPath = longPath ? "/oauth/callback/" + new string('a', 500) : null;

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Register(registry, new ScriptedStrategy(name) { OwnRedirectPath = ownPath }));
        Assert.Contains("control character or is longer than 512 characters", error.Message);
        await Assert.ThrowsAsync<UnknownProviderException>(() => PathOf(registry, name));

        // At the limit it arrives whole, and registers.
        var longest = "/oauth/callback/" + new string('a', 512 - "/oauth/callback/".Length);
        await Register(registry, new ScriptedStrategy("longest") { OwnRedirectPath = longest });
        Assert.Equal(longest, await PathOf(registry, "longest"));
    }

    [Fact]
    public async Task Providers_sharing_a_path_where_one_has_no_known_issuer_are_named_in_one_warning_with_the_fix()
    {
        var registry = Registry();
        await Register(registry, new ScriptedStrategy("honest") { OwnRedirectPath = "/", Issuer = "https://honest.test" });

        await EventFilter.Warning(contains: "share the redirect path").ExpectAsync(1, async () =>
            await Register(registry, new ScriptedStrategy("github") { OwnRedirectPath = "/" }), Wait);

        // Said once for that set of providers, not at every re-registration.
        await EventFilter.Warning(contains: "share the redirect path").ExpectAsync(0, async () =>
            await Register(registry, new ScriptedStrategy("github") { OwnRedirectPath = "/" }), TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task Providers_with_their_own_paths_or_known_issuers_raise_no_warning()
    {
        var registry = Registry();
        await EventFilter.Warning(contains: "share the redirect path").ExpectAsync(0, async () =>
        {
            await Register(registry, new ScriptedStrategy("github"));
            await Register(registry, new ScriptedStrategy("gitlab"));
            await Register(registry, new ScriptedStrategy("a") { OwnRedirectPath = "/", Issuer = "https://a.test" });
            await Register(registry, new ScriptedStrategy("b") { OwnRedirectPath = "/", Issuer = "https://b.test" });
        }, TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task The_warning_text_names_the_providers_the_path_and_the_fix()
    {
        var registry = Registry();
        await Register(registry, new ScriptedStrategy("honest") { OwnRedirectPath = "/", Issuer = "https://honest.test" });
        await EventFilter.Custom(e => e is Akka.Event.Warning w && w.Message.ToString() is { } text &&
                text.Contains("'github', 'honest'") && text.Contains("'github' has no known issuer") && text.Contains("own RedirectPath"))
            .ExpectOneAsync(Wait, async () => await Register(registry, new ScriptedStrategy("github") { OwnRedirectPath = "/" }));
    }
}
