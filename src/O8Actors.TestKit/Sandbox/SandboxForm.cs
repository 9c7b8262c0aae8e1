using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// Reading an endpoint's <c>application/x-www-form-urlencoded</c> body (RFC 6749 appendix B) as a careful server does:
/// the media type matched exactly (parameters such as <c>charset</c> allowed), and the body bounded in size and
/// parameters, so an oversized or unreadable form is the endpoint's 400, not a server error.
/// </summary>
internal static class SandboxForm
{
    /// <summary>The largest form body read (OAuth requests are small; an assertion or a pushed request fits many times).</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>The most parameters a form may have.</summary>
    public const int MaxParameters = 100;

    private const string UrlEncoded = "application/x-www-form-urlencoded";

    /// <summary>The error description for a form <see cref="TryReadAsync"/> could not read.</summary>
    public static readonly string Unreadable =
        $"The form could not be read: it must be URL-encoded, at most {MaxBytes / 1024} KiB and {MaxParameters} parameters.";

    /// <summary>Whether the request's content type is exactly a URL-encoded form (not multipart, not a longer name that starts alike).</summary>
    public static bool IsUrlEncoded(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && type.MediaType.Equals(UrlEncoded, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The form's parameters and the name of the first one sent twice, if any (<see cref="SandboxHttp.Flatten"/>); null
    /// when the body is not a form, is too large, or has too many or too long parameters. The body is read as UTF-8,
    /// whatever <c>charset</c> says (RFC 6749 appendix B), so an exotic charset (UTF-7, which .NET refuses) cannot fail the read.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="tokenBytes">
    /// Room for a token the server issued beyond <see cref="MaxBytes"/> (introspection and revocation take back an access
    /// token of <see cref="SandboxOptions.AccessTokenLength"/>, which may be larger than any other form).
    /// </param>
    public static async Task<(Dictionary<string, string> Form, string? Duplicate)?> TryReadAsync(HttpContext context, int tokenBytes = 0)
    {
        if (!IsUrlEncoded(context.Request)) return null;
        var maxBytes = MaxBytes + tokenBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = maxBytes;
        using var reader = new FormReader(context.Request.Body, Encoding.UTF8)
        {
            ValueCountLimit = MaxParameters,
            KeyLengthLimit = 256,
            ValueLengthLimit = maxBytes,
        };
        Dictionary<string, StringValues> form;
        try
        {
            form = await reader.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
            // A form limit (parameter count, key or value length).
            return null;
        }
        catch (BadHttpRequestException)
        {
            // Kestrel's: the body is larger than the bound.
            return null;
        }

        return (SandboxHttp.Flatten(form, out var duplicate), duplicate);
    }
}
