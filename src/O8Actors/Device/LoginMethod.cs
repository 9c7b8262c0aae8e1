namespace O8Actors;

/// <summary>How a login asks the user to sign in (<see cref="AuthorizationRequest.Method"/>).</summary>
public enum LoginMethod
{
    /// <summary>
    /// The authorization-code grant: a browser on this machine opens the authorize URL and comes back to the loopback
    /// listener (RFC 6749 section 4.1, RFC 8252). The default.
    /// </summary>
    Browser,

    /// <summary>
    /// The device authorization grant (RFC 8628): the user is shown a code and a URL to open on any device (a phone, another
    /// computer), and the login polls the token endpoint until the user approved, refused or the code expired. For
    /// machines with no browser: over SSH, in a container, on a server.
    /// </summary>
    Device,

    /// <summary>
    /// <see cref="Browser"/> where a browser can be opened; <see cref="Device"/> when none can (no display, an SSH
    /// session, or the browser launcher failed) and the provider supports the device grant. The choice and its reason are
    /// published as a <see cref="LoginMethodChosenEvent"/> and logged.
    /// </summary>
    Auto,
}
