namespace O8Actors.Accounts;

/// <summary>
/// The scope a token response grants when it names none. RFC 6749 section 5.1 lets a response leave <c>scope</c> out when
/// it grants what was asked, and an account takes a token without a scope as covering any scope a caller names
/// (<c>AccountActor.Covers</c>), so every token an account stores, a login's as a refresh's, is completed here first.
/// </summary>
internal static class GrantedScope
{
    /// <summary>
    /// <paramref name="tokens"/> with the scope they were asked for when the response named none: <paramref name="asked"/>,
    /// or, when the request named none, <paramref name="whenNoneAsked"/> (a refresh that names none asks for the grant's own,
    /// section 6). Unchanged when the response named its scope, or nothing is known.
    /// </summary>
    public static TokenSet Completed(TokenSet tokens, IReadOnlyList<string>? asked, string? whenNoneAsked = null) =>
        tokens.Scope is null && (Written(asked) ?? whenNoneAsked) is { } granted
            ? tokens with { Scope = granted }
            : tokens;

    /// <summary>
    /// <paramref name="scopes"/> as <see cref="TokenSet.Scope"/> holds them: space-separated (RFC 6749 section 3.3), whatever
    /// separator a provider's requests use; null for none.
    /// </summary>
    public static string? Written(IReadOnlyList<string>? scopes) => scopes is { Count: > 0 } ? string.Join(' ', scopes) : null;

    /// <summary>
    /// A login's tokens as its account stores them: with the scopes its <paramref name="request"/> asked for when the
    /// response named none. A login that asked for none got the provider's default scopes, which are not known here (the
    /// built-in strategies name them on the tokens themselves, see <c>TokenEndpointClient</c>; this is for
    /// custom strategies).
    /// </summary>
    public static TokenSet OfLogin(TokenSet tokens, AuthorizationRequest? request) => Completed(tokens, request?.Scopes);
}
