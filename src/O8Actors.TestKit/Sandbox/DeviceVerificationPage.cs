using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>GET /device</c>: the verification URI the sandbox hands out. Its users are scripted
/// (<see cref="SandboxOptions.DeviceUsers"/>), so the page only tells a person who opens it that nothing is to be done.
/// </summary>
internal static class DeviceVerificationPage
{
    public static Task HandleAsync(HttpContext context)
    {
        var code = context.Request.Query["user_code"].ToString();
        var which = string.IsNullOrEmpty(code) ? "" : $" for code <code>{SandboxHttp.Html(code)}</code>";
        return SandboxHttp.WritePageAsync(context, 200, "Sandbox device login",
            $"<p>This is the O8Actors sandbox's device verification page{which}. Its users are scripted by the test or demo: " +
            "the device login is approved, refused or left to expire without anyone typing the code here.</p>");
    }
}
