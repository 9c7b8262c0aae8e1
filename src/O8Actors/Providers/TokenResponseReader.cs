using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.WebUtilities;

namespace O8Actors.Providers;

/// <summary>Maps a Duende <see cref="TokenResponse"/> to a <see cref="TokenSet"/> or a safe <see cref="TokenExchangeException"/>.</summary>
/// <remarks>
/// Duende parses only JSON. GitHub answers <c>application/x-www-form-urlencoded</c> when the request does not ask
/// for JSON, and Duende then reports a parse exception while keeping the body in <see cref="ProtocolResponse.Raw"/>;
/// this reader falls back to parsing that body as a form. GitHub also reports errors with HTTP 200 and an
/// <c>error</c> field, so the <c>error</c> field is checked before the status code.
/// </remarks>
internal static class TokenResponseReader
{
    internal const int MaxProviderTextLength = 300;

    // askedScopes: the scopes the request asked for (null or empty: none named). They are the response's scope when the
    // response leaves scope out, which RFC 6749 section 5.1 allows only when it is identical to the one requested (joined
    // only then, as TokenSet.Scope holds them); left unknown, an account took such a token as covering any scope.
    public static TokenSet Read(
        TokenResponse response,
        string provider,
        string operation,
        TimeProvider time,
        string? previousRefreshToken,
        IReadOnlyList<string?> secrets,
        IReadOnlyList<string>? askedScopes = null)
    {
        var http = response.HttpResponse;
        if (http is null && response.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConfigurationLimitExceeded })
        {
            // The endpoint answered, past what this client reads (1 MB of body, or the headers' limit): the request reached
            // it, so a code or device code it carried may be spent. Said so, and final: not the silent endpoint that
            // "failed before it answered" reads as (a device login polled again with its spent device code).
            throw new TokenExchangeException(
                $"The token endpoint of provider '{provider}' answered the {operation} with more than this client reads " +
                $"({O8Actors.Runtime.O8Bootstrap.MaxResponseBytes / (1024 * 1024)} MB of body, or its headers' limit); the answer was not read.");
        }

        if (http is null)
        {
            var cause = response.Exception;
            throw new TokenExchangeException(
                $"The {operation} with provider '{provider}' failed before the token endpoint answered" +
                (cause is null ? "." : $": {cause.GetType().Name}: {Clean(cause.Message, secrets)}"),
                innerException: cause) { NoEndpointAnswer = true };
        }

        var status = (int)http.StatusCode;
        var fields = TokenFields.From(response);
        if (fields?.Get("error") is { Length: > 0 } error)
        {
            var description = fields.Value.Get("error_description");
            var code = Clean(error, secrets);
            var text = string.IsNullOrEmpty(description) ? "" : $" ({Clean(description, secrets)})";
            throw new TokenExchangeException(
                $"The token endpoint of provider '{provider}' refused the {operation}: {code}{text} (HTTP {status}).",
                providerError: code,
                // A gateway's 503 or a rate limit's 429 may carry an error code of its own, and passes all the same.
                innerException: PassingStatusOf(http));
        }

        if (!http.IsSuccessStatusCode)
        {
            throw new TokenExchangeException(
                $"The token endpoint of provider '{provider}' answered the {operation} with HTTP {status} {Clean(http.ReasonPhrase ?? "", secrets)} " +
                $"and no OAuth error ({Describe(http.Content.Headers.ContentType)}).",
                innerException: PassingStatusOf(http));
        }

        if (fields is not { } answer)
        {
            throw new TokenExchangeException(
                $"The token endpoint of provider '{provider}' answered the {operation} with HTTP {status} but the body is not a " +
                $"token response: expected JSON or a form, got {Describe(http.Content.Headers.ContentType)} that could not be parsed.");
        }

        if (answer.Get("access_token") is not { Length: > 0 } accessToken)
        {
            throw new TokenExchangeException(
                $"The token endpoint of provider '{provider}' answered the {operation} with HTTP {status} but without an access_token.");
        }

        var refreshToken = answer.Get("refresh_token");
        var tokenType = answer.Get("token_type");
        var scope = answer.Get("scope");
        var idToken = answer.Get("id_token");
        return new TokenSet(
            AccessToken: accessToken,
            // Cleaned once here, as it is printed wherever the tokens are described; a type that needed cleaning is no
            // type O8Actors can present, and replaced characters keep it from becoming one.
            TokenType: string.IsNullOrEmpty(tokenType) ? "Bearer" : Callback.ExternalText.Clean(tokenType, Callback.ExternalText.MaxErrorLength)!,
            ExpiresAt: ExpiresAt(answer.Seconds("expires_in"), time),
            RefreshToken: string.IsNullOrEmpty(refreshToken) ? previousRefreshToken : refreshToken,
            // Printed with the tokens too (TokenSet, AccessToken, a dead letter's line). RFC 6749 section 3.3 allows no
            // control character in a scope, so replacing them changes no scope a provider may grant; none is cut.
            Scope: string.IsNullOrEmpty(scope) ? Accounts.GrantedScope.Written(askedScopes) : Callback.ExternalText.Clean(scope, int.MaxValue),
            IdToken: string.IsNullOrEmpty(idToken) ? null : idToken,
            Raw: response.Raw);
    }

    /// <summary>
    /// An answer's HTTP status as .NET's own HTTP errors carry it (<see cref="HttpRequestException.StatusCode"/>; its text
    /// is the number alone) when it is one that passes: a 5xx or a 429, after which a device login polls again (RFC 8628
    /// section 3.5). Null for a 4xx refusal (a 400's <c>invalid_grant</c>), which an app's policy retrying on an inner
    /// <see cref="HttpRequestException"/> would repeat.
    /// </summary>
    private static HttpRequestException? PassingStatusOf(HttpResponseMessage http) =>
        (int)http.StatusCode is >= 500 or 429 ? new($"HTTP {(int)http.StatusCode}", null, http.StatusCode) : null;

    /// <summary>
    /// When the access token expires: <c>expires_in</c> seconds from now (RFC 6749 section 5.1: its lifetime from the
    /// response). Zero or less is a token already expired, not one that never does: the caller that asked for it gets it
    /// once, and the next request refreshes. Missing, not a number, or past the calendar's end: unknown (null).
    /// </summary>
    private static DateTimeOffset? ExpiresAt(double? seconds, TimeProvider time)
    {
        if (seconds is not { } s || double.IsNaN(s)) return null;
        var now = time.GetUtcNow();
        if (s <= 0) return now;
        // A lifetime that ends past the calendar's last day says no more than an absent one: unknown. The bound is the
        // calendar's end from now (a second short of it, for AddSeconds' rounding), not a fixed number: a fixed one let
        // through values that AddSeconds then refused, which threw away a spent code or a rotated refresh token.
        return s < (DateTimeOffset.MaxValue - now).TotalSeconds - 1 ? now.AddSeconds(s) : null;
    }

    /// <summary>
    /// The fields of a token endpoint's (or a sibling endpoint's) response: read straight from Duende's parsed JSON (only
    /// the ones asked for, as the response is read once per login), or from a form body some providers send instead.
    /// </summary>
    internal readonly struct TokenFields
    {
        private readonly JsonElement _json;
        private readonly Dictionary<string, string>? _form;

        private TokenFields(JsonElement json, Dictionary<string, string>? form)
        {
            _json = json;
            _form = form;
        }

        public static TokenFields? From(ProtocolResponse response)
        {
            if (response.Json is { ValueKind: JsonValueKind.Object } json) return new TokenFields(json, null);
            return ReadForm(response) is { } form ? new TokenFields(default, form) : null;
        }

        /// <summary>A field as text (a number as written, a boolean as true/false); null when absent or of another kind.</summary>
        public string? Get(string name)
        {
            if (_form is not null) return _form.GetValueOrDefault(name);
            // JsonElement matches the last of duplicate names, as a later form value would win.
            if (!_json.TryGetProperty(name, out var value)) return null;
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };
        }

        /// <summary>A number of seconds, given as a JSON number or as text.</summary>
        public double? Seconds(string name)
        {
            if (_form is null && _json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number)
                return value.TryGetDouble(out var number) ? number : null;
            return double.TryParse(Get(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
        }
    }

    private static Dictionary<string, string>? ReadForm(ProtocolResponse response)
    {
        var raw = response.Raw;
        if (string.IsNullOrWhiteSpace(raw) || response.Json is not null)
            return null;
        var mediaType = response.HttpResponse?.Content.Headers.ContentType?.MediaType;
        var isForm = string.Equals(mediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);
        var isText = string.Equals(mediaType, "text/plain", StringComparison.OrdinalIgnoreCase);
        if (!isForm && !isText)
            return null;
        var parsed = QueryHelpers.ParseQuery(raw.Trim());
        var form = parsed.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        // A text/plain body counts as a form only when it looks like a token response.
        if (isText && !form.ContainsKey("access_token") && !form.ContainsKey("error"))
            return null;
        return form;
    }

    private static string Describe(MediaTypeHeaderValue? contentType) =>
        contentType?.MediaType is { Length: > 0 } media ? $"content type {media}" : "no content type";

    /// <summary>
    /// Provider text goes into exception messages, so remove anything that could be a secret we sent (some servers
    /// echo the code back), blank out what would forge a log line or hide text (<see cref="Callback.ExternalText.Hides"/>)
    /// and cap the length.
    /// </summary>
    internal static string Clean(string text, IReadOnlyList<string?> secrets)
    {
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret))
                text = text.Replace(secret, "***", StringComparison.Ordinal);
        }
        var clean = Callback.ExternalText.Replaced(text, ' ').Trim();
        return clean.Length <= MaxProviderTextLength ? clean : clean[..Callback.ExternalText.CutLength(clean, MaxProviderTextLength)] + "...";
    }
}
