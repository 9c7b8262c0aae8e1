using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>Starts sandboxes with the clients most tests need.</summary>
public static class Sandboxes
{
    public const string PublicClient = "public-app";
    public const string BasicClient = "basic-app";
    public const string PostClient = "post-app";
    public const string Secret = "s3cret-value";

    public static Task<SandboxAuthorizationServer> StartAsync(Action<SandboxOptions>? configure = null)
    {
        var options = new SandboxOptions();
        options.Clients.Add(new SandboxClient(PublicClient, null, [RawOAuthClient.RedirectUri], ClientAuthMethod.None));
        options.Clients.Add(new SandboxClient(BasicClient, Secret, [RawOAuthClient.RedirectUri], ClientAuthMethod.Basic));
        options.Clients.Add(new SandboxClient(PostClient, Secret, [RawOAuthClient.RedirectUri], ClientAuthMethod.Post));
        configure?.Invoke(options);
        return SandboxAuthorizationServer.StartAsync(options);
    }
}
