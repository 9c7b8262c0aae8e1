using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace O8Actors.TestKit.Sandbox;

/// <summary>Small HTTP helpers shared by the sandbox endpoints.</summary>
internal static class SandboxHttp
{
    /// <summary>A 256-bit random value, base64url: used for codes, tokens and consent ids.</summary>
    public static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>The length of a <see cref="NewSecret"/>: 32 bytes in base64url.</summary>
    public const int SecretLength = 43;

    /// <summary>Flattens parameters, or returns the name of the first one sent more than once (RFC 6749 §3.1, §3.2).</summary>
    public static Dictionary<string, string> Flatten(IEnumerable<KeyValuePair<string, StringValues>> source, out string? duplicate)
    {
        duplicate = null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in source)
        {
            if (values.Count > 1)
            {
                duplicate ??= key;
            }

            result[key] = values.ToString();
        }

        return result;
    }

    public static string? Get(this IReadOnlyDictionary<string, string> parameters, string name) =>
        parameters.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    public static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }

    public static Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        NoStore(context.Response);
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body.ToJsonString(JsonOptions), context.RequestAborted);
    }

    /// <summary>An RFC 6749 §5.2 error response.</summary>
    public static Task WriteErrorAsync(HttpContext context, int status, string error, string description)
    {
        var body = new JsonObject { ["error"] = error, ["error_description"] = description };
        return WriteJsonAsync(context, status, body);
    }

    /// <summary>A small self-contained HTML page; <paramref name="bodyHtml"/> must already be encoded.</summary>
    /// <param name="context">The request.</param>
    /// <param name="status">The status code.</param>
    /// <param name="title">The page's title (encoded here).</param>
    /// <param name="bodyHtml">The page's body, encoded.</param>
    /// <param name="redirectsTo">
    /// Where a form of the page redirects after it is posted (the consent page's: the client's redirect URI). Chromium and
    /// WebKit hold every redirect after a form's submission to <c>form-action</c>, so its origin must be listed too, or
    /// the browser stops at the sandbox and the login never gets its callback.
    /// </param>
    public static Task WritePageAsync(HttpContext context, int status, string title, string bodyHtml, Uri? redirectsTo = null)
    {
        context.Response.StatusCode = status;
        NoStore(context.Response);
        var formAction = redirectsTo is null ? "'self'" : $"'self' {redirectsTo.GetLeftPart(UriPartial.Authority)}";
        context.Response.Headers["Content-Security-Policy"] = $"default-src 'none'; style-src 'unsafe-inline'; form-action {formAction}";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        context.Response.ContentType = "text/html; charset=utf-8";
        var html = $"<!doctype html><html><head><meta charset=\"utf-8\"><title>{Html(title)}</title></head>" +
                   $"<body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\"><h1>{Html(title)}</h1>{bodyHtml}</body></html>";
        return context.Response.WriteAsync(html, context.RequestAborted);
    }

    public static string Html(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };
}
