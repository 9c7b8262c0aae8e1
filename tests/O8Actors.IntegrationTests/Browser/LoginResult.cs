namespace O8Actors.IntegrationTests.Browser;

/// <summary>How one scripted login ended in the browser.</summary>
/// <param name="Script">What the user did.</param>
/// <param name="Username">The user name typed at the sign-in page (the provider's account id).</param>
/// <param name="Landed">Whether the browser left the provider and showed a page from the redirect target.</param>
/// <param name="FinalUrl">The last URL without its query (which holds the code), when known.</param>
/// <param name="Status">The HTTP status of the landing page, when it loaded.</param>
/// <param name="Text">The landing page's visible text, when it loaded.</param>
/// <param name="Error">The browser's navigation error (URLs without queries), for example <c>net::ERR_CERT_AUTHORITY_INVALID</c>.</param>
public sealed record LoginResult(
    LoginScript Script,
    string Username,
    bool Landed,
    string? FinalUrl,
    int? Status,
    string? Text,
    string? Error)
{
    /// <summary>
    /// Whether the provider showed its sign-in page; false when it went straight to consent because the browser still had
    /// its session (a login after a sign-out that left the provider's session open).
    /// </summary>
    public bool AskedToSignIn { get; init; } = true;

    /// <summary>Whether the browser landed and the page answered with a 2xx status.</summary>
    public bool LandedOk => Landed && Status is >= 200 and < 300;
}
