using System.Text.RegularExpressions;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// What makes an authorize request acceptable once its client and redirect URI are known (RFC 6749 section 4.1.1,
/// RFC 7636 section 4.3, RFC 8707, OpenID Connect Core 1.0 section 3.1.2.1). Checked by <c>/authorize</c> and, at push
/// time, by the PAR endpoint (RFC 9126 section 2.1), so a pushed request is refused where it is pushed.
/// </summary>
internal static partial class AuthorizeRequestRules
{
    /// <summary>The error code (and its description) an authorize request gets, or null when it may be decided.</summary>
    /// <param name="query">Its parameters.</param>
    /// <param name="duplicate">A parameter sent more than once, if any.</param>
    /// <param name="options">The sandbox's options (PKCE, resource servers).</param>
    /// <param name="description">Why, for <c>error_description</c>.</param>
    public static string? Check(Dictionary<string, string> query, string? duplicate, SandboxOptions options, out string description)
    {
        if (duplicate is not null)
        {
            description = $"Parameter '{duplicate}' was sent more than once.";
            return "invalid_request";
        }

        var responseType = query.Get("response_type");
        if (responseType is null)
        {
            description = "response_type is missing.";
            return "invalid_request";
        }

        if (responseType != "code")
        {
            description = "Only response_type=code is supported (no implicit or hybrid flows).";
            return "unsupported_response_type";
        }

        if (query.Get("state") is null)
        {
            description = "state is required by this server.";
            return "invalid_request";
        }

        // Answers go back in the query only; a client asking for the fragment or a form post would not read them.
        if (query.Get("response_mode") is { } mode && mode != "query")
        {
            description = "Only response_mode=query is supported.";
            return "invalid_request";
        }

        if (query.Get("prompt")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: > 1 } prompts && prompts.Contains("none", StringComparer.Ordinal))
        {
            description = "prompt=none cannot be combined with another prompt value (OpenID Connect Core 1.0 section 3.1.2.1).";
            return "invalid_request";
        }

        var challenge = query.Get("code_challenge");
        var method = query.Get("code_challenge_method");
        if (challenge is null)
        {
            if (method is not null)
            {
                description = "code_challenge_method was sent without code_challenge.";
                return "invalid_request";
            }

            if (options.RequirePkce)
            {
                description = "PKCE is required: send code_challenge with code_challenge_method=S256.";
                return "invalid_request";
            }
        }
        else
        {
            // A missing method means "plain" (RFC 7636 §4.3), which this server refuses.
            if (method != "S256")
            {
                description = "code_challenge_method must be S256; plain is not supported.";
                return "invalid_request";
            }

            if (!ChallengeFormat().IsMatch(challenge))
            {
                description = "code_challenge must be 43 base64url characters (an S256 hash).";
                return "invalid_request";
            }
        }

        if (query.Get("resource") is { } resource && !options.ResourceServers.Contains(resource, StringComparer.Ordinal))
        {
            description = "resource names no API this server issues tokens for (RFC 8707).";
            return "invalid_target";
        }

        description = string.Empty;
        return null;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{43}$")]
    private static partial Regex ChallengeFormat();
}
