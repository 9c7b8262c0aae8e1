using Microsoft.AspNetCore.Http;

namespace O8Actors.Hosting.Tests;

/// <summary>The binding cookie's name, attributes and the bounded read at the callback.</summary>
public sealed class BrowserBindingCookieTests
{
    [Fact]
    public void The_callback_reads_only_binding_cookies_and_at_most_sixteen_of_them()
    {
        var context = new DefaultHttpContext();
        var cookies = Enumerable.Range(0, 40).Select(i => $"__Host-o8-login-l{i}=s{i}").Append("session=x").Append("__Host-o8-login-=empty-id");
        context.Request.Headers.Cookie = string.Join("; ", cookies);

        var read = BrowserBindingCookie.Read(context);

        Assert.Equal(BrowserBindingCookie.MaxRead, read.Count);
        Assert.All(read, pair => Assert.Equal("s" + pair.Key[1..], pair.Value));
        Assert.DoesNotContain("", read.Keys);
    }

    [Fact]
    public void With_more_logins_pending_than_are_read_the_newest_are_kept_so_the_latest_login_finds_its_cookie()
    {
        // A browser sends cookies of one path oldest first: l16, the login started last, comes last.
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = string.Join("; ", Enumerable.Range(0, BrowserBindingCookie.MaxRead + 1).Select(i => $"__Host-o8-login-l{i}=s{i}"));

        var read = BrowserBindingCookie.Read(context);

        Assert.Equal(BrowserBindingCookie.MaxRead, read.Count);
        Assert.Equal("s16", read["l16"]);
        Assert.False(read.ContainsKey("l0"), "the oldest pending login is the one left out");
    }

    [Fact]
    public void The_callback_reads_binding_cookies_by_their_exact_name_so_a_tossed_case_variant_neither_counts_nor_hides_the_genuine_one()
    {
        // __host-... is an ordinary cookie to a browser that checks the prefix case-sensitively: anyone on a sibling
        // subdomain can set it. HttpRequest.Cookies merged it with the genuine one, keeping the later, so the callback
        // read "tossed" for L1 and the user's own login failed as BrowserMismatch.
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = "__Host-o8-login-L1=genuine; __host-o8-login-L1=tossed; __HOST-O8-LOGIN-L2=planted";

        var read = BrowserBindingCookie.Read(context);

        Assert.Equal(new Dictionary<string, string> { ["L1"] = "genuine" }, read);
    }

    [Theory]
    [InlineData(",")]
    [InlineData(" ")]
    public void The_callback_reads_no_binding_smuggled_inside_another_cookies_value_and_is_not_hidden_by_one(string separator)
    {
        // o8x is an ordinary cookie a sibling subdomain can plant; a browser sends its whole value, separator included.
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = $"o8x=1{separator}__Host-o8-login-L1=tossed; o8y=2{separator}__Host-o8-login-L2=planted; __Host-o8-login-L1=genuine";

        var read = BrowserBindingCookie.Read(context);

        Assert.Equal(new Dictionary<string, string> { ["L1"] = "genuine" }, read);
    }

    [Fact]
    public void The_callback_reads_no_binding_whose_cookie_is_sent_twice_and_still_reads_the_others_from_several_headers()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = new(["__Host-o8-login-L1=one; session=x", "__Host-o8-login-L2=two", "__Host-o8-login-L1=again"]);

        var read = BrowserBindingCookie.Read(context);

        Assert.Equal(new Dictionary<string, string> { ["L2"] = "two" }, read);
    }

    [Fact]
    public void The_cookie_is_host_only_secure_http_only_lax_and_lives_as_long_as_the_login()
    {
        var context = new DefaultHttpContext();

        BrowserBindingCookie.Append(context.Response, "abc", "the-secret", TimeSpan.FromMinutes(2));

        var header = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith("__Host-o8-login-abc=the-secret;", header, StringComparison.Ordinal);
        foreach (var attribute in new[] { "secure", "httponly", "samesite=lax", "path=/", "max-age=120" })
            Assert.Contains(attribute, header, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain", header, StringComparison.OrdinalIgnoreCase);
    }
}
