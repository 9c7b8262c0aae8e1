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
    private const int MaxProviderTextLength = 300;

    public static TokenSet Read(
        TokenResponse response,
        string provider,
        string operation,
        TimeProvider time,
        string? previousRefreshToken,
        IReadOnlyList<string?> secrets)
    {
        var http = response.HttpResponse;
        if (http is null)
        {
            var cause = response.Exception;
            throw new TokenExchangeException(
                $"The {operation} with provider '{provider}' failed before the token endpoint answered" +
                (cause is null ? "." : $": {cause.GetType().Name}: {Clean(cause.Message, secrets)}"),
                innerException: cause);
        }

        var status = (int)http.StatusCode;
        var fields = ReadFields(response);
        if (fields is not null && fields.TryGetValue("error", out var error) && !string.IsNullOrEmpty(error))
        {
            fields.TryGetValue("error_description", out var description);
            var code = Clean(error, secrets);
            var text = string.IsNullOrEmpty(description) ? "" : $" ({Clean(description, secrets)})";
            throw new TokenExchangeException(
                $"The token endpoint of provider '{provider}' refused the {operation}: {code}{text} (HTTP {status}).",
                providerError: code);
        }

        if (!http.IsSuccessStatusCode)
        {
            throw new TokenExchangeException(
                $"The token endpoint of provider '{provider}' answered the {operation} with HTTP {status} {http.ReasonPhrase} " +
                $"and no OAuth error ({Describe(http.Content.Headers.ContentType)}).");
        }

        if (fields is null)
        {
            throw new TokenExchangeException(
                $"The token endpoint of provider '{provider}' answered the {operation} with HTTP {status} but the body is not a " +
                $"token response: expected JSON or a form, got {Describe(http.Content.Headers.ContentType)} that could not be parsed.");
        }

        if (!fields.TryGetValue("access_token", out var accessToken) || string.IsNullOrEmpty(accessToken))
        {
            throw new TokenExchangeException(
                $"The token endpoint of provider '{provider}' answered the {operation} with HTTP {status} but without an access_token.");
        }

        fields.TryGetValue("refresh_token", out var refreshToken);
        fields.TryGetValue("token_type", out var tokenType);
        fields.TryGetValue("scope", out var scope);
        fields.TryGetValue("id_token", out var idToken);
        return new TokenSet(
            AccessToken: accessToken,
            TokenType: string.IsNullOrEmpty(tokenType) ? "Bearer" : tokenType,
            ExpiresAt: ExpiresAt(fields, time),
            RefreshToken: string.IsNullOrEmpty(refreshToken) ? previousRefreshToken : refreshToken,
            Scope: string.IsNullOrEmpty(scope) ? null : scope,
            IdToken: string.IsNullOrEmpty(idToken) ? null : idToken,
            Raw: response.Raw);
    }

    /// <summary>The response's top-level fields from JSON, or from a form-encoded body; null when it is neither.</summary>
    private static Dictionary<string, string>? ReadFields(TokenResponse response)
    {
        if (response.Json is { ValueKind: JsonValueKind.Object } json)
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in json.EnumerateObject())
            {
                var value = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString(),
                    JsonValueKind.Number => property.Value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => null,
                };
                if (value is not null)
                    fields[property.Name] = value;
            }
            return fields;
        }

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

    private static DateTimeOffset? ExpiresAt(Dictionary<string, string> fields, TimeProvider time)
    {
        if (!fields.TryGetValue("expires_in", out var text) ||
            !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ||
            seconds <= 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
            return null;
        return time.GetUtcNow().AddSeconds(seconds);
    }

    private static string Describe(MediaTypeHeaderValue? contentType) =>
        contentType?.MediaType is { Length: > 0 } media ? $"content type {media}" : "no content type";

    /// <summary>
    /// Provider text goes into exception messages, so remove anything that could be a secret we sent (some servers
    /// echo the code back), strip control characters and cap the length.
    /// </summary>
    internal static string Clean(string text, IReadOnlyList<string?> secrets)
    {
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret))
                text = text.Replace(secret, "***", StringComparison.Ordinal);
        }
        var chars = text.Select(c => char.IsControl(c) ? ' ' : c).ToArray();
        var clean = new string(chars).Trim();
        return clean.Length <= MaxProviderTextLength ? clean : clean[..MaxProviderTextLength] + "...";
    }
}
