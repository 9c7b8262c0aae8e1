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
}
