namespace O8Actors.Providers;

/// <summary>Builds a logout request URL (OpenID Connect RP-Initiated Logout 1.0, section 2).</summary>
internal static class EndSessionUrlBuilder
{
    /// <summary>
    /// The endpoint plus <c>client_id</c>, <c>id_token_hint</c> when there is one (it names the session to end, so the
    /// provider need not ask which), <c>post_logout_redirect_uri</c> (exactly as given: the provider compares it with
    /// the registered ones byte for byte) and <c>state</c>.
    /// </summary>
    public static Uri Build(Uri endpoint, string clientId, EndSessionContext context)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(context.State))
            throw new ArgumentException("The end-session URL needs a state.", nameof(context));
        if (context.PostLogoutRedirectUri is null || !context.PostLogoutRedirectUri.IsAbsoluteUri)
            throw new ArgumentException("The end-session URL needs an absolute post-logout redirect URI.", nameof(context));
        var query = new List<KeyValuePair<string, string>>(4) { new("client_id", clientId) };
        if (!string.IsNullOrEmpty(context.IdTokenHint)) query.Add(new("id_token_hint", context.IdTokenHint));
        query.Add(new("post_logout_redirect_uri", context.PostLogoutRedirectUri.OriginalString));
        query.Add(new("state", context.State));
        return AuthorizeUrlBuilder.WithQuery(endpoint, query);
    }
}
