using Microsoft.AspNetCore.Http;

namespace O8Actors.Hosting.Tests;

/// <summary>The landing page's claim of a login: the cookie against the login's binding, once, and the cookie kept for it.</summary>
public sealed class OAuthLandingTests
{
    private const string Secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    private static PendingLogin Login(string id = "L1", string binding = Secret) =>
        new(id, "sandbox", new Uri("https://provider.example/authorize"), Task.FromResult<LoginOutcome>(null!)) { BrowserBinding = binding };

    private static DefaultHttpContext Request(string? cookie)
    {
        var context = new DefaultHttpContext();
        if (cookie is not null) context.Request.Headers.Cookie = cookie;
        return context;
    }

    [Fact]
    public void The_browser_holding_the_logins_cookie_claims_it_once_and_the_claim_expires_the_cookie()
    {
        var context = Request($"session=x; __Host-o8-login-L1={Secret}");

        Assert.True(context.ClaimLogin(Login()));
        var cleared = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith("__Host-o8-login-L1=;", cleared, StringComparison.Ordinal);
        Assert.Contains("expires=Thu, 01 Jan 1970", cleared, StringComparison.OrdinalIgnoreCase);
        // The request still carries the cookie, but the login is claimed.
        Assert.False(context.ClaimLogin(Login()));
    }

    [Theory]
    [InlineData(null)]                                                          // another browser: no cookie at all
    [InlineData("__Host-o8-login-L1=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")] // the same length, the last character wrong
    [InlineData("__Host-o8-login-L1=AAAA")]                                     // a prefix of it
    [InlineData("__Host-o8-login-L2=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // the right secret under another login's id
    public void A_browser_without_the_logins_own_secret_is_refused_and_its_cookies_are_left_alone(string? cookie)
    {
        var context = Request(cookie);

        Assert.False(context.ClaimLogin(Login()));
        Assert.Equal(0, context.Response.Headers.SetCookie.Count);
    }

    /// <summary>
    /// A cookie whose name matches only case-insensitively is not <c>__Host-</c> to a browser that checks the prefix
    /// case-sensitively (WebKit): a sibling subdomain (<c>Domain=</c>) or a plain-http page can toss it into the victim's
    /// browser with the attacker's own binding. <c>HttpRequest.Cookies</c> matches names case-insensitively, and took it.
    /// </summary>
    [Theory]
    [InlineData("__host-o8-login-L1")]
    [InlineData("__HOST-O8-LOGIN-L1")]
    [InlineData("__Host-O8-login-L1")]
    public void A_cookie_whose_name_is_the_binding_cookies_only_case_insensitively_claims_nothing(string name)
    {
        var context = Request($"{name}={Secret}");

        Assert.False(context.ClaimLogin(Login()));
        Assert.Equal(0, context.Response.Headers.SetCookie.Count);
    }

    [Fact]
    public void A_tossed_case_variant_sent_after_the_genuine_cookie_does_not_hide_it()
    {
        // HttpRequest.Cookies keeps only the later of two names that differ in case: the genuine cookie was lost.
        var context = Request($"__Host-o8-login-L1={Secret}; __host-o8-login-L1=tossed");

        Assert.True(context.ClaimLogin(Login()));
        Assert.StartsWith("__Host-o8-login-L1=;", context.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A browser ends a cookie's value only at <c>;</c>: <c>,</c>, spaces and <c>=</c> are part of it. An ordinary cookie
    /// anyone can plant from a sibling subdomain (<c>Domain=</c>) may carry the attacker's binding inside its value; a
    /// parser that also split on <c>,</c> or on spaces, or skipped ahead past what it could not parse, would find the
    /// binding cookie there.
    /// </summary>
    [Theory]
    [InlineData("o8x=1,__Host-o8-login-L1={0}")]
    [InlineData("o8x=1 __Host-o8-login-L1={0}")]
    [InlineData("o8x=\"1\",__Host-o8-login-L1={0}")]
    [InlineData("session=x; o8x=1 , __Host-o8-login-L1={0}; theme=dark")]
    public void A_binding_smuggled_inside_another_cookies_value_claims_nothing(string cookie)
    {
        var context = Request(string.Format(System.Globalization.CultureInfo.InvariantCulture, cookie, Secret));

        Assert.False(context.ClaimLogin(Login()));
        Assert.Equal(0, context.Response.Headers.SetCookie.Count);
    }

    [Theory]
    [InlineData("o8x=1,__Host-o8-login-L1=tossed; __Host-o8-login-L1={0}")]
    [InlineData("o8x=1 __Host-o8-login-L1=tossed; __Host-o8-login-L1={0}")]
    public void A_smuggled_pair_sent_before_the_genuine_cookie_does_not_hide_it(string cookie)
    {
        // The planted cookie is the older one, so the browser sends it first: found there, it would hide the genuine one.
        var context = Request(string.Format(System.Globalization.CultureInfo.InvariantCulture, cookie, Secret));

        Assert.True(context.ClaimLogin(Login()));
        Assert.StartsWith("__Host-o8-login-L1=;", context.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_binding_cookie_sent_twice_claims_nothing_even_when_one_of_them_is_right()
    {
        // A genuine __Host- cookie is one per host and Path=/: a second one under its name is somebody else's.
        Assert.False(Request($"__Host-o8-login-L1={Secret}; __Host-o8-login-L1={Secret}").ClaimLogin(Login()));
        Assert.False(Request($"__Host-o8-login-L1=tossed; __Host-o8-login-L1={Secret}").ClaimLogin(Login()));
        var split = new DefaultHttpContext();
        split.Request.Headers.Cookie = new(["__Host-o8-login-L1=tossed", $"__Host-o8-login-L1={Secret}"]);
        Assert.False(split.ClaimLogin(Login()));
        Assert.Equal(0, split.Response.Headers.SetCookie.Count);
    }

    [Fact]
    public void Two_landing_requests_of_one_browser_at_once_claim_the_login_once()
    {
        // Both carry the cookie: the first one's expiry has not reached the browser when the second is sent.
        var login = Login();
        var first = Request($"__Host-o8-login-L1={Secret}");
        var second = Request($"__Host-o8-login-L1={Secret}");

        Assert.Equal([true, false], new[] { first.ClaimLogin(login), second.ClaimLogin(login) });
    }

    [Fact]
    public void The_genuine_cookie_is_found_among_others_in_several_Cookie_headers()
    {
        // HTTP/2 may send each cookie in a header of its own; values with ',', spaces and '=' are a browser's ordinary fare.
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = new(["o8x=1,__Host-o8-login-L1=tossed", " pref=a b=c ;\t", $"lang=en; __Host-o8-login-L1={Secret}", "nameless"]);

        Assert.True(context.ClaimLogin(Login()));
        Assert.StartsWith("__Host-o8-login-L1=;", context.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_login_without_a_binding_is_claimed_by_no_browser()
    {
        Assert.False(Request("__Host-o8-login-L1=").ClaimLogin(Login(binding: "")));
        Assert.False(Request("__Host-o8-login-L1=x").ClaimLogin("L1", ""));
        Assert.False(Login(binding: "").IsBoundTo(""));
    }

    [Fact]
    public void A_session_kept_binding_is_checked_against_the_login()
    {
        Assert.True(Login().IsBoundTo(Secret));
        Assert.False(Login().IsBoundTo(null));
        Assert.False(Login().IsBoundTo(Secret[..^1] + "B"));
    }

    [Fact]
    public void The_callback_that_redirects_to_the_landing_page_sets_the_cookie_again_for_a_grace_and_not_for_another_browser()
    {
        var context = Request($"__Host-o8-login-L1={Secret}");

        BrowserBindingCookie.KeepForLanding(context, "L1");

        var header = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith($"__Host-o8-login-L1={Secret};", header, StringComparison.Ordinal);
        Assert.Contains($"max-age={(int)BrowserBindingCookie.LandingGrace.TotalSeconds}", header, StringComparison.OrdinalIgnoreCase);

        var stranger = Request("session=x");
        BrowserBindingCookie.KeepForLanding(stranger, "L1");
        Assert.Equal(0, stranger.Response.Headers.SetCookie.Count);
    }

    /// <summary>
    /// The landing check is the compare every presented secret goes through (<c>ConstantTime.AreEqual</c>, in constant
    /// time): char for char, so two secrets that differ only in lone surrogates are told apart (an encoding to UTF-8 made
    /// both the same replacement character), and bounded by the binding's length cap before any compare.
    /// </summary>
    [Fact]
    public void The_landing_check_matches_the_secret_char_for_char_and_nothing_longer_than_a_binding()
    {
        Assert.True(BrowserBindingCookie.Matches(Secret, Secret));
        Assert.False(BrowserBindingCookie.Matches(Secret + "\uD800", Secret + "\uDBFF"));
        var longest = new string('A', O8Actors.Binding.BrowserBindingVerifier.MaxPresentedLength);
        Assert.True(BrowserBindingCookie.Matches(longest, longest));
        Assert.False(BrowserBindingCookie.Matches(longest + "A", longest + "A"));
    }
}
