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
/// parameters, so an oversized or unreadable form is the endpoint's 400, not a server error. One per server
/// (<see cref="SandboxState.Forms"/>), its bound derived once from the options, so every endpoint that takes a token
/// back reads a form large enough for it.
/// </summary>
internal sealed class SandboxForm
{
    /// <summary>The bound of a form before room for a token (OAuth requests are small; an assertion or a pushed request fits many times).</summary>
    public const int BaseBytes = 64 * 1024;

    /// <summary>The most parameters a form may have.</summary>
    public const int MaxParameters = 100;

    private const string UrlEncoded = "application/x-www-form-urlencoded";

    private SandboxForm(int maxBytes)
    {
        MaxBytes = maxBytes;
        Unreadable = $"The form could not be read: it must be URL-encoded, at most {maxBytes} bytes and {MaxParameters} parameters.";
    }

    /// <summary>
    /// The reader for a server with <paramref name="options"/>: <see cref="BaseBytes"/> plus the longest token the server
    /// issues, since a client sends each one back in a form (refresh, introspection, revocation). Access tokens are as
    /// long as <see cref="SandboxOptions.AccessTokenLength"/>; refresh tokens, codes and device codes are one secret.
    /// </summary>
    public static SandboxForm For(SandboxOptions options) =>
        new(BaseBytes + Math.Max(options.AccessTokenLength ?? 0, SandboxHttp.SecretLength));

    /// <summary>The largest form body read, in bytes.</summary>
    public int MaxBytes { get; }

    /// <summary>The error description for a form <see cref="TryReadAsync"/> could not read.</summary>
    public string Unreadable { get; }

    /// <summary>Whether the request's content type is exactly a URL-encoded form (not multipart, not a longer name that starts alike).</summary>
    public static bool IsUrlEncoded(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && type.MediaType.Equals(UrlEncoded, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The form's parameters and the name of the first one sent twice, if any (<see cref="SandboxHttp.Flatten"/>); null
    /// when the body is not a form, is too large, or has too many or too long parameters. The body is read as UTF-8,
    /// whatever <c>charset</c> says (RFC 6749 appendix B), so an exotic charset (UTF-7, which .NET refuses) cannot fail the read.
    /// </summary>
    public async Task<(Dictionary<string, string> Form, string? Duplicate)?> TryReadAsync(HttpContext context)
    {
        if (!IsUrlEncoded(context.Request)) return null;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxBytes;
        using var reader = new FormReader(context.Request.Body, Encoding.UTF8)
        {
            ValueCountLimit = MaxParameters,
            KeyLengthLimit = 256,
            ValueLengthLimit = MaxBytes,
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
