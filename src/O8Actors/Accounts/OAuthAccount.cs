namespace O8Actors;

/// <summary>
/// A signed-in account: the provider it belongs to and a key that is stable for the person at that provider. After a
/// successful login the key is the validated ID token's <c>sub</c> (<see cref="IdTokenClaims.Subject"/>); for a provider
/// without ID tokens (GitHub, Discord) it is the key the app gave in <see cref="AuthorizationRequest.AccountKey"/>.
/// </summary>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="Key">The subject (or app-given key): an identifier, not a secret.</param>
public sealed record OAuthAccount(string Provider, string Key)
{
    /// <summary>
    /// <c>provider/key</c>, with both parts escaped so that <c>/</c> inside a part cannot make two accounts look alike.
    /// </summary>
    public string Id => $"{Uri.EscapeDataString(Provider)}/{Uri.EscapeDataString(Key)}";

    /// <inheritdoc />
    public override string ToString() => $"OAuthAccount {{ Provider = {Provider}, Key = {Key} }}";
}
