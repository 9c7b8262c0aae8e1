using O8Actors.Examples.DeviceLogin;
using O8Actors.Examples.OidcIssuer;

namespace O8Actors.TestKit.Tests.Examples;

/// <summary>
/// The examples that read <c>O8_CLIENT_SECRET</c> run their tests one at a time (one collection): a test here sets the
/// variable for the whole process, and a sandbox login running beside it would send that secret as a public client.
/// </summary>
[CollectionDefinition(Collection)]
public sealed class ClientSecretVariable
{
    /// <summary>The collection's name.</summary>
    public const string Collection = "Examples reading O8_CLIENT_SECRET";
}

/// <summary>A client secret in the environment never reaches the examples' help, which shows options' defaults.</summary>
[Collection(ClientSecretVariable.Collection)]
public sealed class ClientSecretHelpTests
{
    [Fact]
    public async Task The_help_of_the_examples_never_prints_the_client_secret_from_the_environment()
    {
        const string secret = "secret-from-the-environment-4f1c";
        var before = Environment.GetEnvironmentVariable(OidcIssuerCommand.SecretVariable);
        Environment.SetEnvironmentVariable(OidcIssuerCommand.SecretVariable, secret);
        try
        {
            var oidc = new StringWriter();
            var device = new StringWriter();
            await OidcIssuerCommand.InvokeAsync(["--help"], oidc);
            await DeviceLoginCommand.InvokeAsync(["--help"], device);

            Assert.Contains("--client-secret", oidc.ToString());
            Assert.Contains("--client-secret", device.ToString());
            Assert.DoesNotContain(secret, oidc.ToString());
            Assert.DoesNotContain(secret, device.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(OidcIssuerCommand.SecretVariable, before);
        }
    }
}
