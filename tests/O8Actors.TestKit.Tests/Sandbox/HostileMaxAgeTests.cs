using System.Buffers.Text;
using System.Net;
using System.Text.Json;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// A <c>max_age</c> (OpenID Connect Core 1.0 section 3.1.2.1) no session age can be compared with as a time span, sent
/// to a sandbox that plays an hour-old session: the code is still exchanged (never a 500) and the session is kept, as for
/// any <c>max_age</c> longer than it; one shorter than the session signs the user in again.
/// </summary>
public sealed class HostileMaxAgeTests : SandboxEndpointTest
{
    private static readonly TimeSpan Session = TimeSpan.FromHours(1);

    protected override void Configure(SandboxOptions options) => options.SessionAge = Session;

    [Theory]
    [InlineData("9223372036854775807", false)]     // long.MaxValue seconds: no TimeSpan holds it
    [InlineData("922337203686", false)]            // just past TimeSpan.MaxValue in seconds
    [InlineData("99999999999999999999", false)]    // no long holds it: not a max_age at all
    [InlineData("-5", false)]
    [InlineData("ten", false)]
    [InlineData("60", true)]
    public async Task The_code_is_exchanged_and_auth_time_follows_the_max_age(string maxAge, bool signsInAgain)
    {
        var pkce = Pkce.Create();
        var code = await Client.GetCodeAsync(Sandboxes.PublicClient, pkce, extra: new Dictionary<string, string?> { ["max_age"] = maxAge });

        var reply = await Client.ExchangeAsync(Sandboxes.PublicClient, code, pkce);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(reply.IdToken!.Split('.')[1]));
        var expected = signsInAgain ? Time.GetUtcNow() : Time.GetUtcNow() - Session;
        Assert.Equal(expected.ToUnixTimeSeconds(), claims.RootElement.GetProperty("auth_time").GetInt64());
    }
}
