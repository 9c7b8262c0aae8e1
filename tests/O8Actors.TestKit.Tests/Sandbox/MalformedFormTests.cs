using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using O8Actors.TestKit.Sandbox;
using O8Actors.TestKit.Tests.Support;

namespace O8Actors.TestKit.Tests.Sandbox;

/// <summary>
/// Bodies that are not the URL-encoded form an OAuth endpoint takes (RFC 6749 appendix B), sent over HTTP to every
/// form endpoint of the sandbox: a content type that only starts like the form's, an oversized or over-long form, a
/// chunked body without end. Each gets the endpoint's 400 (a JSON <c>invalid_request</c>, or a page for the browser
/// endpoints), never a 500; a real form with a charset parameter or in capitals is read.
/// </summary>
public sealed class MalformedFormTests : SandboxEndpointTest
{
    protected override void Configure(SandboxOptions options) => options.PushedAuthorization = SandboxPushedAuthorization.Optional;

    public static TheoryData<string> Endpoints => new()
    {
        SandboxEndpoints.TokenPath, SandboxEndpoints.IntrospectionPath, SandboxEndpoints.RevocationPath,
        SandboxEndpoints.DeviceAuthorizationPath, SandboxEndpoints.PushedAuthorizationPath, SandboxEndpoints.EndSessionPath,
        SandboxEndpoints.ConsentPath,
    };

    [Theory]
    [InlineData("application/x-www-form-urlencodedXYZ")]
    [InlineData("application/x-www-form-urlencoded-evil")]
    [InlineData("application/x-www-form-urlencoded+json")]
    [InlineData("application/x-www-form-urlencoded/extra")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/json")]
    [InlineData(";;;")]
    public async Task A_body_that_is_not_exactly_a_URL_encoded_form_is_invalid_request_at_the_token_endpoint(string contentType)
    {
        var (status, error) = await PostAsync(SandboxEndpoints.TokenPath, Body(RefreshForm, contentType));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", error);
        Assert.Equal(0, Server.Counters.Errors("invalid_grant"));    // never read as a form
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_content_type_that_only_starts_like_a_form_gets_a_400_at_every_form_endpoint(string path)
    {
        var (status, _) = await PostAsync(path, Body(RefreshForm, "application/x-www-form-urlencodedXYZ"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded; charset=utf-8")]
    [InlineData("application/x-www-form-urlencoded;charset=\"UTF-8\"")]
    [InlineData("APPLICATION/X-WWW-FORM-URLENCODED")]
    [InlineData("application/x-www-form-urlencoded; charset=bogus")]
    [InlineData("application/x-www-form-urlencoded; charset=utf-7")]
    public async Task A_URL_encoded_form_with_parameters_or_in_capitals_is_read(string contentType)
    {
        var (status, error) = await PostAsync(SandboxEndpoints.TokenPath, Body(RefreshForm, contentType));

        // Read, client authenticated, and refused for the unknown refresh token: the form got through.
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", error);
    }

    [Theory]
    [InlineData("client_id=public-app&grant_type=refresh_token&refresh_token=%zz")]
    [InlineData("client_id=public-app&grant_type=refresh_token&refresh_token=%C3%28%FF")]
    [InlineData("client_id=public-app&grant_type=refresh_token&refresh_token=x&%=&=v&&&")]
    [InlineData("client_id=public-app&grant_type=refresh_token&refresh_token=%")]
    public async Task Odd_but_decodable_form_encoding_is_read_leniently_as_browsers_do(string body)
    {
        var (status, error) = await PostAsync(SandboxEndpoints.TokenPath, Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", error);
    }

    public static TheoryData<string, string> Oversized => new()
    {
        { "too many parameters", RefreshForm + string.Concat(Enumerable.Range(0, SandboxForm.MaxParameters).Select(i => $"&p{i}=v")) },
        { "a parameter name too long", RefreshForm + $"&{new string('k', 300)}=v" },
        { "a body too large", RefreshForm + $"&big={new string('v', SandboxForm.For(new SandboxOptions()).MaxBytes)}" },
    };

    [Theory]
    [MemberData(nameof(Oversized))]
    public async Task An_oversized_form_is_invalid_request_at_the_token_endpoint(string what, string body)
    {
        var (status, error) = await PostAsync(SandboxEndpoints.TokenPath, Body(body));

        Assert.True(status == HttpStatusCode.BadRequest, what);
        Assert.Equal("invalid_request", error);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_form_with_too_many_parameters_gets_a_400_at_every_form_endpoint(string path)
    {
        var body = "client_id=public-app" + string.Concat(Enumerable.Range(0, SandboxForm.MaxParameters + 1).Select(i => $"&p{i}=v"));

        var (status, _) = await PostAsync(path, Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Theory]
    [InlineData("/introspect")]
    [InlineData("/revoke")]
    public async Task A_token_management_form_with_a_parameter_sent_twice_is_invalid_request(string path)
    {
        var (status, error) = await PostAsync(path, Body("client_id=public-app&token=first&token=second"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", error);
    }

    [Fact]
    public async Task A_chunked_body_larger_than_the_limit_is_invalid_request_and_the_next_request_is_served()
    {
        // No Content-Length: the limit strikes while the body is read.
        var bytes = Encoding.ASCII.GetBytes(RefreshForm + $"&big={new string('v', 4 * SandboxForm.BaseBytes)}");
        var chunked = new StreamContent(new MemoryStream(bytes));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var request = new HttpRequestMessage(HttpMethod.Post, Server.TokenEndpoint) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;

        using var response = await Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_request", await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_grant", (await PostAsync(SandboxEndpoints.TokenPath, Body(RefreshForm))).Error);
    }

    private const string RefreshForm = "client_id=public-app&grant_type=refresh_token&refresh_token=unknown";

    private static StringContent Body(string body, string contentType = "application/x-www-form-urlencoded")
    {
        var content = new StringContent(body, Encoding.ASCII);
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    /// <summary>POSTs <paramref name="content"/>; the status and the OAuth error, when the answer is JSON.</summary>
    private async Task<(HttpStatusCode Status, string? Error)> PostAsync(string path, HttpContent content)
    {
        using (content)
        using (var response = await Client.Http.PostAsync(new Uri(Server.Issuer, path), content))
        {
            var body = await response.Content.ReadAsStringAsync();
            if (response.Content.Headers.ContentType?.MediaType != "application/json") return (response.StatusCode, null);
            using var json = JsonDocument.Parse(body);
            return (response.StatusCode, json.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null);
        }
    }
}
