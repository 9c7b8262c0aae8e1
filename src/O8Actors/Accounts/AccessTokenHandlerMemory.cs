namespace O8Actors.Accounts;

/// <summary>
/// What an <see cref="AccessTokenHandler"/> learns from the APIs it calls, held apart from the handler so it outlives the
/// handlers <c>IHttpClientFactory</c> builds anew for one client (one memory per client, for the app's life).
/// </summary>
internal sealed class AccessTokenHandlerMemory
{
    /// <summary>Renewed tokens an API refused as well (their hashes).</summary>
    public RefusedTokens Refused { get; } = new();

    /// <summary>Sends DPoP-bound tokens, and keeps the nonces the APIs gave (RFC 9449 section 8).</summary>
    public Dpop.DpopSender Dpop { get; } = new();
}
