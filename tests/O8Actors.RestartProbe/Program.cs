// One run of a CLI app that remembers its user: args are the token store folder, the sandbox's authorize and token
// endpoints, its issuer and the client id. It prints its redirect URI, waits for "go" on stdin (the test registers the
// URI at the sandbox meanwhile), then asks for alice's token: from the store when a previous run left one ("cached"),
// otherwise through a login in the scripted browser ("login"). Last it prints a hash of the token (never the token).
using System.Security.Cryptography;
using System.Text;
using O8Actors;
using O8Actors.Providers;
using O8Actors.TestKit.Browser;

if (args.Length != 5)
{
    Console.Error.WriteLine("usage: O8Actors.RestartProbe <store-folder> <authorize-endpoint> <token-endpoint> <issuer> <client-id>");
    return 2;
}

await using var browser = new ScriptedBrowser();
await using var logins = await OAuthLogins.StartAsync(setup =>
{
    setup.Options.Listener.Scheme = "http";
    setup.Options.Listener.Port = 0;
    setup.Options.Listener.BindIPv6 = false;
    setup.Options.Listener.Host = "127.0.0.1"; // IPv4 only: a localhost redirect could go to [::1]
    setup.Browser = browser;
    setup.TokenStore = new FileTokenStore(args[0]);
    setup.SystemName = "o8-restart-probe";
});
await logins.RegisterProviderAsync(new GenericOAuthStrategy(new GenericOAuthOptions
{
    Name = "sandbox",
    AuthorizationEndpoint = new Uri(args[1]),
    TokenEndpoint = new Uri(args[2]),
    Issuer = args[3],
    ClientId = args[4],
    ClientAuthentication = ClientAuthentication.None,
    DefaultScopes = ["openid"],
}));
Console.WriteLine($"redirect {await logins.GetRedirectUriAsync("sandbox")}");
if (Console.ReadLine() != "go") return 3;

var alice = new OAuthAccount("sandbox", "alice");
AccessToken token;
try
{
    token = await logins.GetAccessTokenAsync(alice);
    Console.WriteLine("cached");
}
catch (InteractionRequiredException)
{
    var request = new AuthorizationRequest(ExtraParameters: new Dictionary<string, string> { ["login_hint"] = "alice" }) { AccountKey = "alice" };
    if (await logins.RunAsync("sandbox", request) is not LoginSucceeded { Account: { } account } || account != alice) return 4;
    token = await logins.GetAccessTokenAsync(alice);
    Console.WriteLine("login");
}

Console.WriteLine($"token-sha256 {Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token.Token)))}");
return 0;
