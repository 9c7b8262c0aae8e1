using Microsoft.AspNetCore.WebUtilities;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>Inputs shared by the provider tests. The secret-looking values are searched for in exception messages.</summary>
internal static class ProviderTestData
{
    public const string State = "st4te-Value_with.chars~";
    public const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    public const string Code = "SECRET-CODE-5f1d";
    public const string Verifier = "SECRET-VERIFIER-dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    public const string ClientSecret = "SECRET-CLIENT-9a8b";
    public const string RefreshToken = "SECRET-REFRESH-77aa";

    /// <summary>A redirect URI with a path and a port, so exact echoing is visible.</summary>
    public static readonly Uri RedirectUri = new("https://localhost:41539/callback/");

    public static AuthorizeUrlContext AuthorizeContext(
        string? challenge = Challenge,
        IReadOnlyList<string>? scopes = null,
        IReadOnlyDictionary<string, string>? extra = null) =>
        new(State, challenge, RedirectUri, scopes ?? [], extra ?? new Dictionary<string, string>(), ProviderDescriptor.Static);

    public static CodeExchangeContext Exchange(string? verifier = Verifier) => new(Code, verifier, RedirectUri);

    /// <summary>The query of a URL as a dictionary; fails the test on a repeated parameter.</summary>
    public static Dictionary<string, string> Query(Uri url)
    {
        var parsed = QueryHelpers.ParseQuery(url.Query);
        Assert.All(parsed, p => Assert.Single(p.Value));
        return parsed.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
    }

    public static GenericOAuthOptions Options(Uri tokenEndpoint, ClientAuthentication auth = ClientAuthentication.Basic) => new()
    {
        Name = "test",
        AuthorizationEndpoint = new Uri("https://auth.example.test/authorize"),
        TokenEndpoint = tokenEndpoint,
        ClientId = "client-1",
        ClientSecret = auth == ClientAuthentication.None ? null : ClientSecret,
        ClientAuthentication = auth,
    };

    /// <summary>A strategy whose token, revocation, pushed-authorization and device endpoints are all on <paramref name="server"/>.</summary>
    public static GenericOAuthStrategy EveryEndpointOn(RecordingServer server)
    {
        var options = Options(server.Url("/token"));
        options.RevocationEndpoint = server.Url("/revoke");
        options.PushedAuthorizationRequestEndpoint = server.Url("/par");
        options.DeviceAuthorizationEndpoint = server.Url("/device");
        return new GenericOAuthStrategy(options);
    }

    public static void AssertNoSecrets(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            foreach (var secret in new[] { Code, Verifier, ClientSecret, RefreshToken })
                Assert.DoesNotContain(secret, e.Message, StringComparison.Ordinal);
        }
    }
}
