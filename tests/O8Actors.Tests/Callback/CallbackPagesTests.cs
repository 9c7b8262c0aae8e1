using O8Actors.Callback;

namespace O8Actors.Tests.Callback;

public sealed class CallbackPagesTests
{
    [Theory]
    [InlineData(nameof(CallbackPageKind.Success), "You are signed in. You can close this tab.")]
    [InlineData(nameof(CallbackPageKind.Denied), "denied")]
    [InlineData(nameof(CallbackPageKind.Failed), "failed")]
    [InlineData(nameof(CallbackPageKind.BadRequest), "cannot be used to sign in")]
    [InlineData(nameof(CallbackPageKind.NotFound), "Not found")]
    [InlineData(nameof(CallbackPageKind.MethodNotAllowed), "Method not allowed")]
    [InlineData(nameof(CallbackPageKind.SignOutRefused), "cannot complete the sign-out")]
    public void Each_kind_has_its_own_heading(string kind, string heading) // by name: the enum is internal, a public test method cannot take it
    {
        var html = CallbackPages.Render(new CallbackResponse(200, Enum.Parse<CallbackPageKind>(kind), "detail text"));

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains(heading, html);
        Assert.Contains("<p>detail text</p>", html);
    }

    /// <summary>A sign-out's refused return read "This request cannot be used to sign in" to a user who was signing out.</summary>
    [Fact]
    public void A_sign_outs_refused_return_speaks_of_the_sign_out_not_of_a_sign_in()
    {
        foreach (var page in new[] { CallbackPages.NotThisSignOut, CallbackPages.SignOutNotYetSent, CallbackPages.SignOutAlreadyEnded })
        {
            var html = CallbackPages.Render(page);
            Assert.Contains("Sign-out not completed", html);
            Assert.DoesNotContain("sign in", html.Replace("Sign out again", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Provider_text_is_HTML_encoded()
    {
        var html = CallbackPages.Render(new CallbackResponse(400, CallbackPageKind.Denied,
            "<script>alert('x')</script> & \"quoted\""));

        Assert.DoesNotContain("<script", html);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;", html);
    }

    [Fact]
    public void Pages_are_self_contained()
    {
        var html = CallbackPages.Render(new CallbackResponse(200, CallbackPageKind.Success, "ok"));

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<style>", html);
    }

    [Fact]
    public void The_status_code_is_shown()
    {
        Assert.Contains("HTTP 504", CallbackPages.Render(CallbackPages.TimedOut));
    }
}
