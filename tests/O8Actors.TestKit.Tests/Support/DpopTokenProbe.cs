using System.Security.Cryptography;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>
/// Raw token requests with hand-made DPoP proofs (RFC 9449) against a sandbox with DPoP on: each is a refresh with an
/// unknown refresh token by the public client, so a proof that passes is answered <c>invalid_grant</c>, and one that
/// does not with the proof's error.
/// </summary>
public sealed class DpopTokenProbe(SandboxAuthorizationServer server, HttpClient http, TimeProvider time) : IDisposable
{
    /// <summary>The key the probe's proofs are signed with.</summary>
    public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The server's current nonce, from the answer to a client's request without a proof.</summary>
    public async Task<string> NonceAsync()
    {
        using var response = await http.PostAsync(server.TokenEndpoint,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = Sandboxes.PublicClient }));
        return HandMadeJwt.NonceOf(response.Headers) ?? throw new InvalidOperationException("The sandbox gave no DPoP nonce.");
    }

    /// <summary>A well-formed proof by <see cref="Key"/> for the token endpoint, carrying <paramref name="nonce"/>.</summary>
    public string Proof(string? nonce) => HandMadeJwt.Proof(Key, server.TokenEndpoint, time.GetUtcNow(), nonce);

    /// <summary>Sends <paramref name="proof"/>; the answer and the nonce it gives.</summary>
    public async Task<(TokenReply Reply, string? Nonce)> SendAsync(string proof)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.TokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token", ["client_id"] = Sandboxes.PublicClient, ["refresh_token"] = "unknown",
            }),
        };
        request.Headers.TryAddWithoutValidation("DPoP", proof);
        using var response = await http.SendAsync(request);
        var reply = new TokenReply(response.StatusCode, await response.Content.ReadAsStringAsync(), "", false);
        return (reply, HandMadeJwt.NonceOf(response.Headers));
    }

    /// <summary>The error a well-formed proof carrying <paramref name="nonce"/> gets: <c>invalid_grant</c> when the proof passed.</summary>
    public async Task<string?> ErrorWithNonceAsync(string? nonce) => (await SendAsync(Proof(nonce))).Reply.Error;

    public void Dispose() => Key.Dispose();
}
