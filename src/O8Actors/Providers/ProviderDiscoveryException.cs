namespace O8Actors.Providers;

/// <summary>
/// A provider's metadata (OpenID Connect Discovery or RFC 8414) could not be fetched or is unusable.
/// A mismatched <c>issuer</c> is reported as <see cref="IssuerMismatchException"/> instead.
/// </summary>
public sealed class ProviderDiscoveryException(string message, Exception? innerException = null)
    : OAuthFlowException(message, innerException);
