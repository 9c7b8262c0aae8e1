namespace O8Actors.Binding;

/// <summary>
/// What a login keeps of the secret its browser holds: <c>HMAC-SHA256(K, secret)</c> and the per-login key K, protected
/// with ASP.NET Core Data Protection. Neither reveals the secret, and any node with the same key ring can check it.
/// </summary>
/// <param name="ProtectedKey">K, protected by <see cref="BrowserBindingVerifier"/>'s Data Protection purpose.</param>
/// <param name="Mac">HMAC-SHA256 of the secret under K.</param>
internal sealed record BrowserBindingHash(byte[] ProtectedKey, byte[] Mac)
{
    /// <inheritdoc />
    public override string ToString() => "BrowserBindingHash { *** }";
}
