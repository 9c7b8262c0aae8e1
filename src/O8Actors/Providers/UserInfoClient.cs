using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using O8Actors.Dpop;

namespace O8Actors.Providers;

/// <summary>
/// Calls one provider's UserInfo endpoint (OpenID Connect Core 1.0 section 5.3): a <c>GET</c> with the access token in
/// the Authorization header (RFC 6750 section 2.1; a DPoP-bound token as <c>DPoP</c> with a proof, RFC 9449 section 7,
/// the server's nonces kept per client), and turns every answer other than a JSON object into a
/// <see cref="UserInfoException"/> whose message names the provider, never the token. A signed answer
/// (<c>application/jwt</c>, section 5.3.2) is read once <paramref name="signedResponses"/> has verified it; without a
/// validator (a provider with no key set) it is refused. <paramref name="dpopNonces"/>: the endpoint's DPoP nonces, new
/// ones or those a client of the same endpoint was given.
/// </summary>
internal sealed partial class UserInfoClient(string provider, Uri endpoint, DpopNonces dpopNonces, TimeProvider? time = null,
    IdTokens.IdTokenValidator? signedResponses = null)
{
    /// <summary>The largest answer read: a user's claims are a few hundred bytes; more is refused, not buffered.</summary>
    internal const int MaxResponseBytes = 64 * 1024;

    private readonly DpopSender _dpop = new(time, dpopNonces);

    /// <summary>The endpoint called.</summary>
    public Uri Endpoint => endpoint;

    public async Task<JsonElement?> FetchAsync(UserInfoContext context, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(http);
        if (!AccessToken.CanBePresented(context.TokenType, context.DpopKey))
            throw new UserInfoException(UserInfoFailure.NotSupported,
                $"The access token of provider '{provider}' is of type '{Callback.ExternalText.Clean(context.TokenType, Callback.ExternalText.MaxErrorLength)}', neither a bearer token (RFC 6750) nor DPoP-bound (RFC 9449): O8Actors cannot present it to the UserInfo endpoint.");

        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        // A client registered for signed responses gets one whatever it asks; saying it can read them costs nothing.
        if (signedResponses is not null) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/jwt"));
        HttpResponseMessage response;
        try
        {
            if (context.DpopKey is { } key)
            {
                // HttpClient sends a message once, and a nonce retry sends the request again: each try is a copy.
                response = await _dpop.SendAsync(request, key, context.AccessToken,
                    (signed, ct) => http.SendAsync(Copy(signed), HttpCompletionOption.ResponseHeadersRead, ct), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", context.AccessToken);
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (HttpRequestException e)
        {
            throw new UserInfoException(UserInfoFailure.Failed, $"The UserInfo endpoint of provider '{provider}' could not be reached: {e.Message}", innerException: e);
        }

        using (response)
        {
            Refuse(response);
            return await ReadObjectAsync(response, http, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A bodiless request with <paramref name="request"/>'s method, target and headers (the proof among them).</summary>
    private static HttpRequestMessage Copy(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri);
        foreach (var header in request.Headers) copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        return copy;
    }

    /// <summary>Throws for every status other than 200, with the endpoint's <c>error</c> code when it sent one.</summary>
    private void Refuse(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.OK) return;
        var error = ErrorCode(response);
        var said = error is null ? "" : $" ({error})";
        // A 401 that refuses the DPoP proof, not the token: a renewed token would carry a proof of the same key and be
        // refused alike, so it is no reason to spend the refresh token (GetUserInfoAsync renews only for Unauthorized).
        if (DpopSender.RefusesTheProof(response))
            throw new UserInfoException(UserInfoFailure.Refused,
                $"The UserInfo endpoint of provider '{provider}' refused the DPoP proof{said}: its servers may not share their nonces.", error);
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => new UserInfoException(UserInfoFailure.Unauthorized,
                $"The UserInfo endpoint of provider '{provider}' refused the access token{said}.", error),
            HttpStatusCode.Forbidden => new UserInfoException(UserInfoFailure.Refused,
                $"The UserInfo endpoint of provider '{provider}' refused the request{said}: the token may lack the 'openid' scope or the scopes of the claims asked for.", error),
            _ => new UserInfoException(UserInfoFailure.Failed,
                $"The UserInfo endpoint of provider '{provider}' answered {(int)response.StatusCode} {Callback.ExternalText.Clean(response.ReasonPhrase, Callback.ExternalText.MaxErrorLength)}{said}.", error),
        };
    }

    private async Task<JsonElement> ReadObjectAsync(HttpResponseMessage response, HttpClient http, CancellationToken cancellationToken)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var signed = string.Equals(mediaType, "application/jwt", StringComparison.OrdinalIgnoreCase);
        if (signed && signedResponses is null)
            throw new UserInfoException(UserInfoFailure.InvalidResponse,
                $"The UserInfo endpoint of provider '{provider}' answered with a signed or encrypted response (application/jwt), which needs the provider's key set to verify: " +
                "set its JwksUri (or use its discovery), or register the client for plain JSON UserInfo responses.");
        if (!signed && mediaType is not null && !mediaType.EndsWith("json", StringComparison.OrdinalIgnoreCase))
            throw new UserInfoException(UserInfoFailure.InvalidResponse,
                $"The UserInfo endpoint of provider '{provider}' answered with {mediaType}, not JSON.");
        if (response.Content.Headers.ContentLength > MaxResponseBytes) throw TooLarge();

        var body = await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false);
        if (signed) return await signedResponses!.ValidateUserInfoAsync(System.Text.Encoding.ASCII.GetString(body.Span).Trim(), http, cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new UserInfoException(UserInfoFailure.InvalidResponse,
                    $"The UserInfo response of provider '{provider}' is JSON but not an object.");
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            // The parser's message quotes no content, only a position.
            throw new UserInfoException(UserInfoFailure.InvalidResponse, $"The UserInfo response of provider '{provider}' is not valid JSON: {e.Message}", innerException: e);
        }
    }

    /// <summary>The body, refused once it passes <see cref="MaxResponseBytes"/> (a server that sends no length is cut off there).</summary>
    private async Task<ReadOnlyMemory<byte>> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        // Sized by the declared length when there is one (checked against the limit already), one byte over to see more.
        var buffer = new byte[(content.Headers.ContentLength is { } declared ? (int)declared : MaxResponseBytes) + 1];
        var length = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += read;
            if (length > MaxResponseBytes) throw TooLarge();
            if (length == buffer.Length) throw new UserInfoException(UserInfoFailure.InvalidResponse,
                $"The UserInfo response of provider '{provider}' is longer than its declared length.");
        }

        return buffer.AsMemory(0, length);
    }

    private UserInfoException TooLarge() => new(UserInfoFailure.InvalidResponse,
        $"The UserInfo response of provider '{provider}' is larger than {MaxResponseBytes / 1024} KiB; it was not read.");

    /// <summary>
    /// The <c>error</c> of a <c>WWW-Authenticate</c> challenge (RFC 6750 section 3), if it is a plain error code: the
    /// header is the server's text, so only a code's characters are taken into a message or a log.
    /// </summary>
    private static string? ErrorCode(HttpResponseMessage response)
    {
        foreach (var challenge in response.Headers.WwwAuthenticate)
        {
            if (challenge.Parameter is { } parameters && ErrorParameter().Match(parameters) is { Success: true } match)
                return match.Groups[1].Value;
        }

        return null;
    }

    [GeneratedRegex(@"(?:^|[\s,])error=""([A-Za-z0-9_.\-]{1,64})""")]
    private static partial Regex ErrorParameter();
}
