using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;

namespace O8Actors;

/// <summary>
/// A signed-in account: the provider it belongs to and a key that is stable for the person at that provider. After a
/// successful login the key is the validated ID token's <c>sub</c> (<see cref="IdTokenClaims.Subject"/>); for a provider
/// without ID tokens (GitHub, Discord) it is the key the app gave in <see cref="AuthorizationRequest.AccountKey"/>.
/// </summary>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="Key">The subject (or app-given key): an identifier, not a secret.</param>
/// <exception cref="ArgumentException">The provider or the key is not well-formed UTF-16 (it holds a lone surrogate).</exception>
public sealed record OAuthAccount(string Provider, string Key)
{
    private readonly string _provider = ThrowIfIllFormed(Provider, nameof(Provider));
    private readonly string _key = ThrowIfIllFormed(Key, nameof(Key));

    /// <summary>The registered provider's name.</summary>
    /// <exception cref="ArgumentException">The name is not well-formed UTF-16.</exception>
    public string Provider
    {
        get => _provider;
        init => _provider = ThrowIfIllFormed(value, nameof(Provider));
    }

    /// <summary>The subject (or app-given key): an identifier, not a secret.</summary>
    /// <exception cref="ArgumentException">The key is not well-formed UTF-16.</exception>
    public string Key
    {
        get => _key;
        init => _key = ThrowIfIllFormed(value, nameof(Key));
    }

    /// <summary>
    /// <c>provider/key</c>, with both parts escaped so that <c>/</c> inside a part cannot make two accounts look alike.
    /// </summary>
    public string Id => $"{Uri.EscapeDataString(Provider)}/{Uri.EscapeDataString(Key)}";

    /// <inheritdoc />
    /// <remarks>
    /// Control and formatting characters in the provider name or the key (an app's own key may come from user input)
    /// are shown replaced, so a printed account cannot forge a log line; <see cref="Id"/> keeps them, escaped.
    /// </remarks>
    public override string ToString() =>
        $"OAuthAccount {{ Provider = {Callback.ExternalText.Clean(Provider, int.MaxValue)}, Key = {Callback.ExternalText.Clean(Key, int.MaxValue)} }}";

    /// <summary>
    /// <paramref name="value"/>, unless it holds a lone surrogate. <see cref="Id"/> escapes (and the stores' JSON
    /// writes) such a surrogate as U+FFFD, so <c>"x\uD800"</c> and <c>"x\uFFFD"</c> would name one account: one file, one
    /// register, the second person reading the first one's tokens. Null passes (as before; <see cref="Id"/> refuses it).
    /// </summary>
    /// <exception cref="ArgumentException">Ill-formed; the message does not quote the value.</exception>
    internal static string ThrowIfIllFormed(string value, string paramName)
    {
        var rest = value.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out _, out var used) != OperationStatus.Done)
                throw new ArgumentException(
                    "An account's provider name and key must be well-formed UTF-16: this one holds a lone surrogate, which would " +
                    "name the same account as another string.", paramName);
            rest = rest[used..];
        }

        return value;
    }

    /// <summary>
    /// Refuses a missing account, or one whose provider name or key is null (read back so from an app's own store, or
    /// made with <c>null!</c>): its actor could not be named, and the caller waited out its whole wait for an answer
    /// that never came, then was told the renewal or the sign-out did not finish.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="account"/> is null.</exception>
    /// <exception cref="ArgumentException">Its provider name or key is null.</exception>
    internal static void ThrowIfIncomplete([NotNull] OAuthAccount? account, [CallerArgumentExpression(nameof(account))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(account, paramName);
        // The properties are declared non-null; a null still arrives through null! or a deserializer.
        if (account.Provider is null || account.Key is null)
            throw new ArgumentException(
                $"The account has no {(account.Provider is null ? "provider name" : "key")}: an account names its provider and the user's key there.",
                paramName);
    }
}
