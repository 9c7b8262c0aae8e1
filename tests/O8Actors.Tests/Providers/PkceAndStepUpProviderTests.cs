using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// What the provider actor puts on the authorize request: the PKCE challenge exactly when the provider takes it (the
/// app's <c>o8.login.pkce = off</c> only for a confidential client), and the login is told so (it sends the verifier exactly then).
/// </summary>
public sealed class PkceAndStepUpProviderTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly Uri RedirectUri = new("https://localhost:41539/");
    private static readonly Uri TokenEndpoint = new("https://token.example.test/token");

    private static PrepareAuthorization Prepare(string provider, bool pkceOff = false) =>
        new(provider, "l1", "state-l1", ProviderTestData.Challenge, RedirectUri, [], new Dictionary<string, string>())
        {
            PkceOffForConfidentialClient = pkceOff,
        };

    private async Task<IActorRef> Registry(ProviderStrategy strategy)
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        Assert.Equal(strategy.Name, (await registry.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait)).Provider);
        return registry;
    }

    private static GenericOAuthStrategy Generic(ClientAuthentication auth, bool usePkce = true)
    {
        var options = ProviderTestData.Options(TokenEndpoint, auth);
        options.UsePkce = usePkce;
        return new GenericOAuthStrategy(options);
    }

    [Fact]
    public async Task A_confidential_client_that_opts_out_of_PKCE_gets_no_challenge_and_its_login_is_told_so()
    {
        var registry = await Registry(Generic(ClientAuthentication.Basic, usePkce: false));

        registry.Tell(Prepare("test"));

        var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.False(prepared.PkceUsed);
        Assert.DoesNotContain("code_challenge", ProviderTestData.Query(prepared.AuthorizeUrl).Keys);
    }

    [Fact]
    public async Task A_provider_that_takes_PKCE_gets_the_challenge_and_its_login_is_told_so()
    {
        var registry = await Registry(Generic(ClientAuthentication.Basic));

        registry.Tell(Prepare("test"));

        var prepared = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.True(prepared.PkceUsed);
        Assert.Equal(ProviderTestData.Challenge, ProviderTestData.Query(prepared.AuthorizeUrl)["code_challenge"]);
    }

    [Fact]
    public async Task The_apps_PKCE_switch_turns_it_off_for_a_confidential_client_only()
    {
        var confidential = await Registry(Generic(ClientAuthentication.Basic));
        confidential.Tell(Prepare("test", pkceOff: true));
        var withSecret = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.False(withSecret.PkceUsed);
        Assert.DoesNotContain("code_challenge", ProviderTestData.Query(withSecret.AuthorizeUrl).Keys);

        // A public client: only PKCE protects its codes, so o8.login.pkce = off does not remove it.
        var publicClient = await Registry(Generic(ClientAuthentication.None));
        publicClient.Tell(Prepare("test", pkceOff: true));
        var withoutSecret = ExpectMsg<AuthorizationPrepared>(Wait);
        Assert.True(withoutSecret.PkceUsed);
        Assert.Equal(ProviderTestData.Challenge, ProviderTestData.Query(withoutSecret.AuthorizeUrl)["code_challenge"]);
    }
}
