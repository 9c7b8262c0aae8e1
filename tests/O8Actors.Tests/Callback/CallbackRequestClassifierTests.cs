using O8Actors.Callback;

namespace O8Actors.Tests.Callback;

public sealed class CallbackRequestClassifierTests
{
    private const string Path = "/";
    private const string Host = "localhost:41539";

    [Theory]
    // Method: anything but GET is refused before the path is looked at.
    [InlineData("HEAD", "/", Host, "?code=c&state=s", CallbackVerdict.MethodNotAllowed)]
    [InlineData("OPTIONS", "/", Host, "?code=c&state=s", CallbackVerdict.MethodNotAllowed)]
    [InlineData("POST", "/", Host, "?code=c&state=s", CallbackVerdict.MethodNotAllowed)]
    [InlineData("PUT", "/favicon.ico", Host, "", CallbackVerdict.MethodNotAllowed)]
    // Path: the callback path or a provider's path under it, exact and case-sensitive; every path under it is judged as
    // a callback (the login then checks that the path is its provider's). Outside it: 404.
    [InlineData("GET", "/favicon.ico", Host, "", CallbackVerdict.MissingQuery)]
    [InlineData("GET", "/github", Host, "?code=c", CallbackVerdict.MissingState)]
    [InlineData("GET", "/github", Host, "?code=c&state=s", CallbackVerdict.Candidate)]
    [InlineData("GET", "/github", Host, "?state=s", CallbackVerdict.MissingCodeAndError)]
    [InlineData("GET", "", Host, "?code=c&state=s", CallbackVerdict.NotFound)]
    [InlineData("GET", null, Host, "?code=c&state=s", CallbackVerdict.NotFound)]
    // Host header: loopback names only (DNS rebinding defence).
    [InlineData("GET", "/", "evil.example", "?code=c&state=s", CallbackVerdict.HostNotLoopback)]
    [InlineData("GET", "/", "evil.example:41539", "?code=c&state=s", CallbackVerdict.HostNotLoopback)]
    [InlineData("GET", "/", "localhost.evil.example", "?code=c&state=s", CallbackVerdict.HostNotLoopback)]
    [InlineData("GET", "/", "", "?code=c&state=s", CallbackVerdict.HostNotLoopback)]
    [InlineData("GET", "/", null, "?code=c&state=s", CallbackVerdict.HostNotLoopback)]
    [InlineData("GET", "/", "::1", "?code=c&state=s", CallbackVerdict.HostNotLoopback)]
    [InlineData("GET", "/", "[::1", "?code=c&state=s", CallbackVerdict.HostNotLoopback)]
    [InlineData("GET", "/", "[::1]x", "?code=c&state=s", CallbackVerdict.HostNotLoopback)]
    [InlineData("GET", "/", "10.0.0.1:41539", "?code=c&state=s", CallbackVerdict.HostNotLoopback)]
    // Query: the OAuth parameters of a redirect.
    [InlineData("GET", "/", Host, "", CallbackVerdict.MissingQuery)]
    [InlineData("GET", "/", Host, null, CallbackVerdict.MissingQuery)]
    [InlineData("GET", "/", Host, "?", CallbackVerdict.MissingQuery)]
    [InlineData("GET", "/", Host, "?code=c", CallbackVerdict.MissingState)]
    [InlineData("GET", "/", Host, "?code=c&state=", CallbackVerdict.MissingState)]
    [InlineData("GET", "/", Host, "?code=c&state", CallbackVerdict.MissingState)]
    [InlineData("GET", "/", Host, "?code=c&state=a&state=b", CallbackVerdict.DuplicateParameter)]
    [InlineData("GET", "/", Host, "?code=c&state=a&state=a", CallbackVerdict.DuplicateParameter)]
    [InlineData("GET", "/", Host, "?code=c&code=d&state=s", CallbackVerdict.DuplicateParameter)]
    [InlineData("GET", "/", Host, "?error=x&error=y&state=s", CallbackVerdict.DuplicateParameter)]
    [InlineData("GET", "/", Host, "?code=c&state=s&iss=a&iss=b", CallbackVerdict.DuplicateParameter)]
    [InlineData("GET", "/", Host, "?state=s", CallbackVerdict.MissingCodeAndError)]
    [InlineData("GET", "/", Host, "?state=s&code=", CallbackVerdict.MissingCodeAndError)]
    [InlineData("GET", "/", Host, "?state=s&scope=openid", CallbackVerdict.MissingCodeAndError)]
    // Candidates.
    [InlineData("GET", "/", Host, "?code=c&state=s", CallbackVerdict.Candidate)]
    [InlineData("get", "/", Host, "?code=c&state=s", CallbackVerdict.Candidate)]
    [InlineData("GET", "/", "localhost", "?code=c&state=s", CallbackVerdict.Candidate)]
    [InlineData("GET", "/", "LOCALHOST:1", "?code=c&state=s", CallbackVerdict.Candidate)]
    [InlineData("GET", "/", "127.0.0.1:41539", "?code=c&state=s", CallbackVerdict.Candidate)]
    [InlineData("GET", "/", "[::1]:41539", "?code=c&state=s", CallbackVerdict.Candidate)]
    [InlineData("GET", "/", "[::1]", "?code=c&state=s", CallbackVerdict.Candidate)]
    [InlineData("GET", "/", Host, "code=c&state=s", CallbackVerdict.Candidate)]
    [InlineData("GET", "/", Host, "?state=s&error=access_denied", CallbackVerdict.Candidate)]
    [InlineData("GET", "/", Host, "?&&state=s&&code=c&", CallbackVerdict.Candidate)]
    [InlineData("GET", "/", Host, "?code=c&state=s&scope=a&scope=b", CallbackVerdict.Candidate)]
    public void Classifies_each_rule(string method, string? path, string? host, string? query, object expectedVerdict)
    {
        // object, not CallbackVerdict: the enum is internal and a public test method cannot take it.
        var expected = (CallbackVerdict)expectedVerdict;
        var result = CallbackRequestClassifier.Classify(method, path, host, query, Path);

        Assert.Equal(expected, result.Verdict);
        Assert.Equal(expected == CallbackVerdict.Candidate, result.IsCandidate);
        // A state without code or error may be a provider's return after a sign-out: it keeps the state (and nothing
        // else) for the listener to route to a sign-out's registration; every other refusal carries nothing.
        Assert.Equal(expected == CallbackVerdict.MissingCodeAndError, result.MayBeSignOutReturn);
        if (result.MayBeSignOutReturn) Assert.Equal(("s", null, null), (result.State, result.Code, result.Error));
        else if (!result.IsCandidate) Assert.Null(result.State);
    }

    [Fact]
    public void A_candidate_carries_every_decoded_parameter()
    {
        var result = CallbackRequestClassifier.Classify("GET", "/cb", "127.0.0.1:5",
            "?state=abc-_.~123&code=x%2By+z&error=access_denied&error_description=The+user+said+%22no%22%20%3Cb%3E&iss=https%3A%2F%2Fid.example%2F&other=1",
            "/cb");

        Assert.Equal(CallbackVerdict.Candidate, result.Verdict);
        Assert.Equal("abc-_.~123", result.State);
        Assert.Equal("x+y z", result.Code);
        Assert.Equal("access_denied", result.Error);
        Assert.Equal("The user said \"no\" <b>", result.ErrorDescription);
        Assert.Equal("https://id.example/", result.Issuer);
    }

    [Fact]
    public void Absent_optional_parameters_stay_null()
    {
        var result = CallbackRequestClassifier.Classify("GET", "/", Host, "?code=c&state=s", Path);

        Assert.Equal("c", result.Code);
        Assert.Null(result.Error);
        Assert.Null(result.ErrorDescription);
        Assert.Null(result.Issuer);
    }

    [Theory]
    [InlineData("?state=s&code=c&error=", "c", null)]
    [InlineData("?state=s&code=&error=access_denied", null, "access_denied")]
    [InlineData("?state=s&code=c&error", "c", null)]
    public void An_empty_code_or_error_is_as_absent(string query, string? code, string? error)
    {
        // Before: "code=c&error=" reached the login as a refusal with an empty error code (Denied, and no reason).
        var result = CallbackRequestClassifier.Classify("GET", "/", Host, query, Path);

        Assert.Equal(CallbackVerdict.Candidate, result.Verdict);
        Assert.Equal((code, error), (result.Code, result.Error));
    }

    [Fact]
    public void The_callback_path_is_matched_exactly()
    {
        Assert.True(CallbackRequestClassifier.Classify("GET", "/oauth/callback", Host, "?code=c&state=s", "/oauth/callback").IsCandidate);
        Assert.Equal(CallbackVerdict.NotFound,
            CallbackRequestClassifier.Classify("GET", "/OAuth/Callback", Host, "?code=c&state=s", "/oauth/callback").Verdict);
        Assert.Equal(CallbackVerdict.NotFound,
            CallbackRequestClassifier.Classify("GET", "/oauth/callback/", Host, "?code=c&state=s", "/oauth/callback").Verdict);
        Assert.Equal(CallbackVerdict.NotFound,
            CallbackRequestClassifier.Classify("GET", "/", Host, "?code=c&state=s", "/oauth/callback").Verdict);
        Assert.Equal(CallbackVerdict.NotFound,
            CallbackRequestClassifier.Classify("GET", "/oauth/callbacks", Host, "?code=c&state=s", "/oauth/callback").Verdict);
        // A provider's own redirect path under the callback path.
        Assert.True(CallbackRequestClassifier.Classify("GET", "/oauth/callback/github", Host, "?code=c&state=s", "/oauth/callback").IsCandidate);
    }

    [Theory]
    [InlineData("localhost:41539", "localhost")]
    [InlineData("localhost", "localhost")]
    [InlineData("[::1]:41539", "[::1]")]
    [InlineData("[::1]", "[::1]")]
    [InlineData("::1", null)]
    [InlineData("[::1", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Strips_the_port_from_a_host_header(string? header, string? expected) =>
        Assert.Equal(expected, CallbackRequestClassifier.HostWithoutPort(header));

    [Fact]
    public void ToString_never_shows_state_or_code()
    {
        var result = CallbackRequestClassifier.Classify("GET", "/", Host, "?code=secret-code&state=secret-state", Path);

        Assert.DoesNotContain("secret", result.ToString());
    }

    [Fact]
    public void Provider_text_with_line_breaks_and_escapes_cannot_forge_a_log_line_or_steer_a_terminal()
    {
        var forged = Uri.EscapeDataString("bad\r\n2026-11-30 INFO Login l1 succeeded\u001b[2J\0");

        var result = CallbackRequestClassifier.Classify("GET", "/", Host,
            $"?state=s&error=access_denied%0D%0Aforged&error_description={forged}&iss=https%3A%2F%2Fidp.test%00", Path);

        Assert.Equal(CallbackVerdict.Candidate, result.Verdict);
        foreach (var text in new[] { result.Error!, result.ErrorDescription!, result.Issuer! })
            Assert.DoesNotContain(text, char.IsControl);
        Assert.Equal("access_denied\uFFFD\uFFFDforged", result.Error);
        // Replaced, not removed: a NUL-suffixed issuer can never pass for the real one.
        Assert.NotEqual("https://idp.test", result.Issuer);
    }

    [Theory]
    [InlineData("\u2028", "a line separator: a forged log line wherever it is shown as a line break")]
    [InlineData("\u2029", "a paragraph separator")]
    [InlineData("\u202E", "a right-to-left override: the rest shown reversed")]
    [InlineData("\u2066", "a bidirectional isolate")]
    [InlineData("\u200B", "a zero-width space: text that looks like other text")]
    public void Provider_text_with_characters_that_hide_or_forge_text_is_replaced(string hiding, string why)
    {
        var forged = Uri.EscapeDataString("bad" + hiding + "2026-11-30 INFO Login l1 succeeded");

        var result = CallbackRequestClassifier.Classify("GET", "/", Host,
            $"?state=s&error=access_denied{Uri.EscapeDataString(hiding)}&error_description={forged}&iss=https%3A%2F%2Fidp.test{Uri.EscapeDataString(hiding)}", Path);

        Assert.Equal(CallbackVerdict.Candidate, result.Verdict);
        foreach (var text in new[] { result.Error!, result.ErrorDescription!, result.Issuer! })
            Assert.False(text.Contains(hiding, StringComparison.Ordinal), why);
        Assert.Equal("access_denied\uFFFD", result.Error);
        Assert.Equal("https://idp.test\uFFFD", result.Issuer);
    }

    [Fact]
    public void A_cut_never_leaves_half_a_character()
    {
        // An emoji (two UTF-16 halves) straddling the cut.
        var text = new string('d', ExternalText.MaxTextLength - 2) + "\U0001F600" + "tail";

        var cleaned = ExternalText.Clean(text, ExternalText.MaxTextLength)!;

        Assert.False(ExternalText.HasHiding(cleaned));
        Assert.EndsWith("d\u2026", cleaned, StringComparison.Ordinal);
    }

    [Fact]
    public void Provider_text_is_capped_in_length()
    {
        var result = CallbackRequestClassifier.Classify("GET", "/", Host,
            $"?state=s&error={new string('e', 5000)}&error_description={new string('d', 100_000)}", Path);

        Assert.Equal(ExternalText.MaxErrorLength, result.Error!.Length);
        Assert.Equal(ExternalText.MaxTextLength, result.ErrorDescription!.Length);
        Assert.EndsWith("\u2026", result.ErrorDescription);
    }

    [Fact]
    public void Ordinary_provider_text_passes_unchanged()
    {
        var result = CallbackRequestClassifier.Classify("GET", "/", Host,
            "?state=s&error=access_denied&error_description=The%20user%20said%20%3Cno%3E&iss=https%3A%2F%2Fidp.test", Path);

        Assert.Equal("access_denied", result.Error);
        Assert.Equal("The user said <no>", result.ErrorDescription);
        Assert.Equal("https://idp.test", result.Issuer);
    }
}
