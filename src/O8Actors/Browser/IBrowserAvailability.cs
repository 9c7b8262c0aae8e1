namespace O8Actors.Browser;

/// <summary>
/// A browser launcher that can tell, before it tries, that no browser can be opened here (no display, an SSH session).
/// A login with <see cref="LoginMethod.Auto"/> then signs in with the device grant instead, where the provider supports it.
/// </summary>
public interface IBrowserAvailability
{
    /// <summary>Why no browser can be opened here (safe to show), or null when one can.</summary>
    string? UnavailableReason { get; }
}
