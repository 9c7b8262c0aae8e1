namespace O8Actors.Accounts;

/// <summary>
/// A token to try after a server refused one (401): shared by <see cref="AccessTokenHandler"/> and
/// <see cref="IOAuthLogins.GetUserInfoAsync"/>, so both renew the same way.
/// </summary>
internal static class RenewedToken
{
    /// <summary>
    /// The account's current token when another caller has already renewed it, else a forced refresh. The account
    /// refreshes once for every caller that asks while its refresh runs, and a caller that asks afterwards finds the new
    /// token first, so refused requests together cost one refresh. It may still equal <paramref name="refused"/> (a
    /// provider that renews to the same token).
    /// </summary>
    public static async Task<AccessToken> OtherThanAsync(Func<OAuthAccount, AccessTokenOptions?, CancellationToken, Task<AccessToken>> tokens,
        OAuthAccount account, string refused, CancellationToken cancellationToken)
    {
        var current = await tokens(account, null, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(current.Token, refused, StringComparison.Ordinal)) return current;
        return await tokens(account, new AccessTokenOptions(ForceRefresh: true), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The token to try after the server refused <paramref name="refused"/>, or null when there is none: when that was
    /// itself a renewed token the server refused as well (in <paramref name="refusedAfterRenewal"/>), only the account's
    /// current token, which is a newer one if something else renewed it since, and never a refresh: the server's refusals
    /// are not about the token's age, and a refresh per call would only rotate the account's tokens each time. Otherwise
    /// <see cref="OtherThanAsync"/>. Null when that token is the very one refused (a provider may renew to the same token):
    /// sending it again would only be refused again, and so would renewing it on its next refusal, so it is noted in
    /// <paramref name="refusedAfterRenewal"/> as refused after a renewal, and the caller answers with the refusal it has.
    /// </summary>
    public static async Task<AccessToken?> AfterRefusalAsync(Func<OAuthAccount, AccessTokenOptions?, CancellationToken, Task<AccessToken>> tokens,
        OAuthAccount account, string refused, RefusedTokens refusedAfterRenewal, CancellationToken cancellationToken)
    {
        var renewed = refusedAfterRenewal.Contains(refused)
            ? await tokens(account, null, cancellationToken).ConfigureAwait(false)
            : await OtherThanAsync(tokens, account, refused, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(renewed.Token, refused, StringComparison.Ordinal)) return renewed;
        refusedAfterRenewal.Add(refused);
        return null;
    }
}
