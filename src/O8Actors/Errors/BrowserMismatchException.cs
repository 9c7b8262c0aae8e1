namespace O8Actors;

/// <summary>
/// Server mode: the provider's redirect came back in another browser than the one that started the login (the
/// browser-binding cookie or session secret was missing or wrong), so its code was never exchanged. Someone may have
/// sent the user's authorize URL to another person; the user starts again from the app.
/// </summary>
public sealed class BrowserMismatchException(string message) : OAuthFlowException(message);
