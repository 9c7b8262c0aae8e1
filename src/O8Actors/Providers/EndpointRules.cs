namespace O8Actors.Providers;

/// <summary>
/// Checks that protocol endpoints are absolute and protected by TLS (RFC 6749 sections 3.1 and 3.2), and that a resource
/// indicator is an absolute URI without a fragment (RFC 8707 section 2).
/// </summary>
internal static class EndpointRules
{
    /// <summary>
    /// Plain http is accepted only for loopback hosts, so tests and local sandboxes work without certificates while
    /// a real provider's secrets never travel in clear text.
    /// </summary>
    public static void RequireSecureAbsolute(Uri? endpoint, string label, string paramName)
    {
        if (endpoint is null)
            throw new ArgumentException($"{label} is missing.", paramName);
        if (!endpoint.IsAbsoluteUri)
            throw new ArgumentException($"{label} must be an absolute URL, got '{endpoint}'.", paramName);
        if (!string.IsNullOrEmpty(endpoint.Fragment))
            throw new ArgumentException($"{label} must not contain a fragment (RFC 6749 section 3.1), got '{endpoint}'.", paramName);
        if (endpoint.Scheme == Uri.UriSchemeHttps)
            return;
        if (endpoint.Scheme == Uri.UriSchemeHttp && IsLoopback(endpoint))
            return;
        throw new ArgumentException($"{label} must use https (http is allowed only on a loopback host), got '{endpoint}'.", paramName);
    }

    /// <summary>
    /// A resource indicator names an API, not an endpoint this client calls: any absolute URI without a fragment (RFC 8707
    /// section 2), https or not.
    /// </summary>
    public static void RequireResourceIndicator(Uri resource, string label, string paramName)
    {
        if (!resource.IsAbsoluteUri)
            throw new ArgumentException($"{label} must be an absolute URI (RFC 8707 section 2), not '{resource.OriginalString}'.", paramName);
        if (resource.OriginalString.Contains('#'))
            throw new ArgumentException($"{label} must not have a fragment (RFC 8707 section 2): '{resource.OriginalString}'.", paramName);
    }

    /// <summary>Whether the URL names this machine: <c>localhost</c>, 127.0.0.0/8 or ::1.</summary>
    public static bool IsLoopback(Uri url) => Configuration.LoopbackNames.IsLoopbackHost(url.IdnHost);
}
