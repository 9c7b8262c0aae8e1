namespace O8Actors.IntegrationTests.Browser;

/// <summary>What the scripted user does at the provider's dev interaction pages.</summary>
public enum LoginScript
{
    /// <summary>Signs in (any user name and password) and approves the consent page.</summary>
    Approve,

    /// <summary>Clicks "[ Cancel ]" on the sign-in page (the provider redirects with <c>error=access_denied</c>).</summary>
    CancelAtLogin,

    /// <summary>Signs in, then clicks "[ Cancel ]" on the consent page.</summary>
    CancelAtConsent,

    /// <summary>Opens the sign-in page and walks away: nothing ever reaches the redirect listener.</summary>
    Abandon,

    /// <summary>At the provider's sign-out page (its end-session endpoint), clicks "Yes, sign me out".</summary>
    ConfirmSignOut,
}
