using Akka.Actor;
using O8Actors.Accounts;

namespace O8Actors.Cluster;

// A DPoP key (Dpop.DpopKey) has no constructor Akka.Remote's JSON serializer can use: a message holding one is
// unreadable on the receiving node, and Akka.Remote drops it (its sender waits out). Account messages and answers that
// hold a key cross nodes in these forms instead, the key as a private JWK (as WireOutcome carries a login's key), and
// are rebuilt on arrival. Those without a key cross as they are, so nodes of the previous version still read them.

/// <summary>A <see cref="RememberLogin"/> whose tokens are bound to a DPoP key, in a shape the remote's JSON serializer carries whole.</summary>
/// <param name="Account">The account.</param>
/// <param name="Tokens">The login's tokens, without their <see cref="TokenSet.DpopKey"/>.</param>
/// <param name="DpopKey">The tokens' DPoP key as a private JWK (a secret, like the tokens beside it: the remoting between nodes runs over TLS).</param>
/// <param name="OrphanedOver">The message's <see cref="RememberLogin.OrphanedOver"/>.</param>
/// <param name="NoCallerWaits">The message's <see cref="RememberLogin.NoCallerWaits"/>.</param>
internal sealed record WireRememberLogin(OAuthAccount Account, TokenSet Tokens, string DpopKey, long? OrphanedOver = null, bool NoCallerWaits = false)
{
    /// <summary>The message to send to the account's entity: <paramref name="message"/> itself when its tokens hold no key.</summary>
    public static object ForWire(RememberLogin message) => message.Tokens.DpopKey is { } key
        ? new WireRememberLogin(message.Account, message.Tokens with { DpopKey = null }, key.ToJwk(), message.OrphanedOver, message.NoCallerWaits)
        : message;

    /// <summary>The message as it was sent, key restored.</summary>
    /// <exception cref="FormatException">The key arrived malformed (its text is never repeated).</exception>
    /// <exception cref="ArgumentException">The key arrived empty.</exception>
    public RememberLogin ToMessage() => new(Account, Tokens with { DpopKey = Dpop.DpopKey.FromJwk(DpopKey) }) { OrphanedOver = OrphanedOver, NoCallerWaits = NoCallerWaits };

    /// <inheritdoc />
    public override string ToString() => $"WireRememberLogin {{ Account = {Account} }}";
}

/// <summary>An <see cref="AccessToken"/> bound to a DPoP key, in a shape the remote's JSON serializer carries whole.</summary>
/// <param name="Token">The token, without its <see cref="AccessToken.DpopKey"/>.</param>
/// <param name="DpopKey">Its DPoP key as a private JWK (a secret: the caller's node signs proofs with it).</param>
internal sealed record WireAccessToken(AccessToken Token, string DpopKey)
{
    /// <summary>The answer to send to the caller's node: <paramref name="answer"/> itself unless it is a DPoP-bound token.</summary>
    public static object ForWire(object answer) => answer is AccessToken { DpopKey: { } key } token
        ? new WireAccessToken(token with { DpopKey = null }, key.ToJwk())
        : answer;

    /// <summary>
    /// The token as the entity served it, key restored; a <see cref="Status.Failure"/> (<see cref="LoginFailure.Internal"/>)
    /// when the key arrived malformed, so the caller fails at once instead of waiting out.
    /// </summary>
    public object ToAnswer()
    {
        try
        {
            return Token with { DpopKey = Dpop.DpopKey.FromJwk(DpopKey) };
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return new Status.Failure(new AuthorizationFailedException(LoginFailure.Internal,
                "The access token's DPoP key arrived malformed from the node that runs its account (nodes of different O8Actors versions?)."));
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"WireAccessToken {{ Token = {Token} }}";
}
