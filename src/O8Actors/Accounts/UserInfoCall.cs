using Akka.Actor;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors.Accounts;

/// <summary>
/// One <see cref="IOAuthLogins.GetUserInfoAsync"/>: the account's access token (cached, or renewed), the provider
/// actor's UserInfo request with it, one more try with a renewed token when the endpoint refuses it (none when the
/// endpoint already refused that token after a renewal), and the answer's <c>sub</c> checked against the account's ID
/// token.
/// </summary>
internal static class UserInfoCall
{
    // refusedAfterRenewal: the renewed tokens UserInfo endpoints refused as well, kept across calls, so a later call's 401
    // for one of them is the caller's, with no refresh.
    public static async Task<UserInfo> RunAsync(Func<OAuthAccount, AccessTokenOptions?, CancellationToken, Task<AccessToken>> tokens,
        IActorRef providers, TimeSpan wait, OAuthAccount account, RefusedTokens refusedAfterRenewal, CancellationToken cancellationToken)
    {
        var token = await tokens(account, null, cancellationToken).ConfigureAwait(false);
        // Checked before anything is sent: without an ID token's sub, no answer could be shown to be about this user.
        var subject = token.IdTokenSubject ?? throw new UserInfoException(UserInfoFailure.NotSupported,
            $"{account} signed in without an ID token, so a UserInfo answer could not be checked against its subject (OpenID Connect Core 1.0 " +
            "section 5.3.4): UserInfo is for OpenID Connect providers. Call the provider's own API through AccessTokenHandler instead.");

        System.Text.Json.JsonElement? document;
        try
        {
            document = await FetchAsync(providers, wait, token, cancellationToken).ConfigureAwait(false);
        }
        catch (UserInfoException refused) when (refused.Failure == UserInfoFailure.Unauthorized)
        {
            // Revoked or expired before its expires_in: once more with a token the endpoint has not refused.
            var renewed = await RenewedToken.AfterRefusalAsync(tokens, account, token.Token, refusedAfterRenewal, cancellationToken).ConfigureAwait(false);
            // None when renewed to the very token refused (now counted as refused): the caller gets the refusal.
            if (renewed is null) throw;

            try
            {
                document = await FetchAsync(providers, wait, renewed, cancellationToken).ConfigureAwait(false);
            }
            catch (UserInfoException again) when (again.Failure == UserInfoFailure.Unauthorized)
            {
                // Refused though just renewed: the endpoint refuses it for another reason than its age.
                refusedAfterRenewal.Add(renewed.Token);
                throw;
            }
        }

        if (document is not { } response)
            throw new UserInfoException(UserInfoFailure.NotSupported,
                $"The provider '{account.Provider}' has no UserInfo endpoint here (set UserInfoEndpoint, or use a provider whose metadata lists userinfo_endpoint).");
        return UserInfoReader.Read(account, subject, response);
    }

    private static async Task<System.Text.Json.JsonElement?> FetchAsync(IActorRef providers, TimeSpan wait, AccessToken token, CancellationToken cancellationToken)
    {
        var context = new UserInfoContext(token.Token, token.TokenType) { DpopKey = token.DpopKey };
        var reply = await providers.Ask<object>(new FetchUserInfo(token.Account.Provider, FlowSecrets.RandomToken(9), context), wait, cancellationToken)
            .ConfigureAwait(false);
        return reply switch
        {
            UserInfoFetched fetched => fetched.Document,
            UserInfoFetchFailed failed => throw failed.Error,
            ProviderUnavailable { Failure: LoginFailure.UnknownProvider } => throw new UnknownProviderException(token.Account.Provider),
            ProviderUnavailable unavailable => throw new UserInfoException(UserInfoFailure.Failed, unavailable.Reason),
            _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}."),
        };
    }
}
