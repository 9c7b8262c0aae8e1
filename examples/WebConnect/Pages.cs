using System.Net;
using Microsoft.AspNetCore.Antiforgery;

namespace O8Actors.Examples.WebConnect;

/// <summary>The demo's two small pages; every form carries its antiforgery token.</summary>
internal static class Pages
{
    public static IResult Login(HttpContext context, IAntiforgery antiforgery, string? error = null) => Html($"""
        <h1>WebConnect demo: sign in</h1>
        {(error is null ? "" : $"<p style=color:#b00>{WebUtility.HtmlEncode(error)}</p>")}
        <form method=post action=/login>
          {Token(context, antiforgery)}
          <label>User <input name=user autocomplete=username></label>
          <label>Password <input name=password type=password autocomplete=current-password></label>
          <button>Sign in</button>
        </form>
        <p>Demo users come from configuration (Demo:Users), for example alice and bob.</p>
        """);

    public static IResult Home(HttpContext context, IAntiforgery antiforgery, string user, Connections connections)
    {
        var rows = string.Concat(connections.Describe(user).Select(c =>
            $"<li>{WebUtility.HtmlEncode(c.Key)}: {WebUtility.HtmlEncode(c.Value.Status)}</li>"));
        return Html($"""
            <h1>Signed in as {WebUtility.HtmlEncode(user)}</h1>
            <h2>Your connections</h2>
            <ul>{(rows.Length == 0 ? "<li>none yet</li>" : rows)}</ul>
            <form method=post action=/connect/sandbox>{Token(context, antiforgery)}<button>Connect the sandbox account</button></form>
            <form method=post action=/logout>{Token(context, antiforgery)}<button>Sign out</button></form>
            """);
    }

    private static string Token(HttpContext context, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return $"<input type=hidden name=\"{WebUtility.HtmlEncode(tokens.FormFieldName)}\" value=\"{WebUtility.HtmlEncode(tokens.RequestToken)}\">";
    }

    private static IResult Html(string body) =>
        Results.Content($"<!doctype html><html><head><meta charset=utf-8><title>WebConnect</title></head><body>{body}</body></html>", "text/html; charset=utf-8");
}
