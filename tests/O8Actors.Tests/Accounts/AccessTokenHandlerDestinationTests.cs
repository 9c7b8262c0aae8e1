using System.Collections.Concurrent;
using System.Net;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// Where <see cref="AccessTokenHandler"/> sends a token: never over plain http off this machine's loopback (RFC 6750
/// section 5.3), and, with <see cref="AccessTokenHandler.AllowedOrigins"/>, to those origins only. A refused request
/// reaches no handler below (so no network), costs no token fetch, and its message names the origin, never the token.
/// </summary>
public sealed class AccessTokenHandlerDestinationTests
{
    private static readonly OAuthAccount Alice = new("api", "alice");
    private const string CachedToken = "at-cached-7f3e";
    private const string RenewedToken = "at-renewed-91bc";

    private readonly ConcurrentQueue<AccessTokenOptions?> _asked = new();

    /// <summary>What the handler below was given: each request's URL and Authorization header.</summary>
    private sealed class RecordingHandler(Func<HttpRequestMessage, HttpStatusCode>? answer = null) : HttpMessageHandler
    {
        public ConcurrentQueue<(Uri Url, string? Authorization)> Sent { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent.Enqueue((request.RequestUri!, request.Headers.Authorization?.ToString()));
            return Task.FromResult(new HttpResponseMessage(answer?.Invoke(request) ?? HttpStatusCode.OK));
        }
    }

    private AccessTokenHandler Handler(RecordingHandler below, IReadOnlyCollection<Uri>? allowedOrigins = null) =>
        new((account, options, _) =>
        {
            Assert.Equal(Alice, account);
            _asked.Enqueue(options);
            var token = options is { ForceRefresh: true } ? RenewedToken : CachedToken;
            return Task.FromResult(new AccessToken(Alice, token, "Bearer", DateTimeOffset.UtcNow.AddMinutes(5), "api"));
        }, Alice) { AllowedOrigins = allowedOrigins, InnerHandler = below };

    [Fact]
    public async Task A_token_goes_over_plain_http_only_to_loopback_and_any_other_http_request_is_refused_unsent()
    {
        var below = new RecordingHandler();
        using var api = new HttpClient(Handler(below));

        foreach (var loopback in new[] { "http://127.0.0.1:8080/me", "http://127.9.9.9/me", "http://[::1]:8080/me", "http://localhost/me", "http://LOCALHOST:5000/me" })
        {
            using var response = await api.GetAsync(loopback);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var sentBefore = below.Sent.Count;
        var askedBefore = _asked.Count;
        foreach (var (url, origin) in new[]
                 {
                     ("http://api.example.com/me", "http://api.example.com"),
                     ("http://10.0.0.7:8080/me", "http://10.0.0.7:8080"),
                     ("http://localhost.example.com/me", "http://localhost.example.com"),
                     ("http://127.0.0.1.nip.io/me", "http://127.0.0.1.nip.io"),
                     ("http://[2001:db8::1]/me", "http://[2001:db8::1]"),
                 })
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => api.GetAsync(url));
            Assert.Contains(origin, refused.Message, StringComparison.Ordinal);
            Assert.Contains("https", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(CachedToken, refused.Message, StringComparison.Ordinal);
        }

        // The loopback requests went with the token; the others reached nothing below and fetched no token.
        Assert.Equal(5, sentBefore);
        Assert.All(below.Sent, sent => Assert.Equal($"Bearer {CachedToken}", sent.Authorization));
        Assert.Equal(sentBefore, below.Sent.Count);
        Assert.Equal(askedBefore, _asked.Count);
    }

    [Fact]
    public async Task A_refusal_names_the_scheme_host_and_port_and_never_the_path_query_user_info_or_token()
    {
        var below = new RecordingHandler();
        using var api = new HttpClient(Handler(below));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            api.GetAsync("http://svc:pa55word@api.example.com:8080/users/42?api_key=k-5ecret"));

        Assert.Contains("http://api.example.com:8080", refused.Message, StringComparison.Ordinal);
        foreach (var kept in new[] { "pa55word", "svc", "/users", "k-5ecret", CachedToken })
            Assert.DoesNotContain(kept, refused.Message, StringComparison.Ordinal);
        Assert.Empty(below.Sent);
        Assert.Empty(_asked);
    }

    [Fact]
    public async Task With_allowed_origins_only_those_origins_get_the_token_and_any_other_request_is_refused_unsent()
    {
        var below = new RecordingHandler();
        using var api = new HttpClient(Handler(below, [new Uri("https://api.example.com"), new Uri("http://127.0.0.1:5000/")]));

        foreach (var allowed in new[] { "https://api.example.com/me", "https://API.Example.com:443/v1/things?x=1", "http://127.0.0.1:5000/me" })
        {
            using var response = await api.GetAsync(allowed);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        foreach (var (url, origin) in new[]
                 {
                     ("https://evil.example.com/me", "https://evil.example.com"),
                     ("https://api.example.com.evil.example/me", "https://api.example.com.evil.example"),
                     ("https://api.example.com:8443/me", "https://api.example.com:8443"),
                     ("http://127.0.0.1:5001/me", "http://127.0.0.1:5001"),   // loopback, but not an allowed origin
                     ("http://localhost:5000/me", "http://localhost:5000"),   // another name is another origin
                 })
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => api.GetAsync(url));
            Assert.Contains(origin, refused.Message, StringComparison.Ordinal);
            Assert.Contains("allowed origins", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(CachedToken, refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(["https://api.example.com/me", "https://api.example.com/v1/things?x=1", "http://127.0.0.1:5000/me"],
            below.Sent.Select(sent => sent.Url.AbsoluteUri));
        Assert.Equal(3, _asked.Count); // a token for each request sent, none for those refused
    }

    [Fact]
    public async Task With_allowed_origins_a_refused_token_is_renewed_and_the_retry_goes_to_the_same_allowed_origin()
    {
        var below = new RecordingHandler(request =>
            request.Headers.Authorization?.Parameter == RenewedToken ? HttpStatusCode.OK : HttpStatusCode.Unauthorized);
        using var api = new HttpClient(Handler(below, [new Uri("https://api.example.com")]));

        using var response = await api.GetAsync("https://api.example.com/me");
        var elsewhere = await Assert.ThrowsAsync<InvalidOperationException>(() => api.GetAsync("https://other.example.com/me"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([("https://api.example.com/me", $"Bearer {CachedToken}"), ("https://api.example.com/me", $"Bearer {RenewedToken}")],
            below.Sent.Select(sent => (sent.Url.AbsoluteUri, sent.Authorization)));
        Assert.Contains("https://other.example.com", elsewhere.Message, StringComparison.Ordinal);
        Assert.Equal([false, false, true], _asked.Select(o => o?.ForceRefresh ?? false)); // cached, cached again, one refresh
    }

    [Theory]
    [InlineData("http://api.example.com")]           // clear text off this machine: no request could ever go there
    [InlineData("https://api.example.com/v1")]       // a path: an origin restricts no path
    [InlineData("https://api.example.com/?x=1")]
    [InlineData("https://api.example.com/#top")]
    [InlineData("https://user@api.example.com")]
    [InlineData("ftp://api.example.com")]
    [InlineData("api.example.com/me")]     // relative
    public void An_allowed_origin_that_is_no_usable_origin_is_refused_when_set(string origin)
    {
        var error = Assert.Throws<ArgumentException>(() => Handler(new RecordingHandler(), [new Uri(origin, UriKind.RelativeOrAbsolute)]));

        Assert.Equal(nameof(AccessTokenHandler.AllowedOrigins), error.ParamName);
    }

    [Fact]
    public void An_empty_list_of_allowed_origins_is_refused_and_null_allows_any()
    {
        var error = Assert.Throws<ArgumentException>(() => Handler(new RecordingHandler(), []));
        using var any = Handler(new RecordingHandler(), null);

        Assert.Equal(nameof(AccessTokenHandler.AllowedOrigins), error.ParamName);
        Assert.Null(any.AllowedOrigins);
    }

    [Fact]
    public void The_allowed_origins_read_back_as_the_handler_compares_them_each_once()
    {
        using var handler = Handler(new RecordingHandler(),
            [new Uri("https://API.example.com"), new Uri("https://bücher.example:8443"), new Uri("https://api.example.com:443/"), new Uri("http://[::1]:5000")]);

        Assert.Equal(["https://api.example.com/", "https://xn--bcher-kva.example:8443/", "http://[::1]:5000/"],
            handler.AllowedOrigins!.Select(origin => origin.AbsoluteUri));
    }
}
