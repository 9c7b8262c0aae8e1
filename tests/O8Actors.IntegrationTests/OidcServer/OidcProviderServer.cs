using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using O8Actors.IntegrationTests.Infrastructure;

namespace O8Actors.IntegrationTests.OidcServer;

/// <summary>
/// A real OpenID Connect provider (panva/oidc-provider, <c>oidc/server.mjs</c>) running under node on 127.0.0.1.
/// Use it as an xUnit class fixture (one provider per test class; tests register their own clients with
/// <see cref="RegisterClientAsync"/>), or start one with static clients through <see cref="StartAsync"/>.
/// </summary>
/// <remarks>
/// The provider binds port 0 and reports the port the OS picked in its ready line, so parallel test runs never race
/// for a port. Its dev interaction pages accept any user name and password; PKCE is required on every request;
/// refresh tokens are issued to every client allowed the refresh_token grant and rotate on each use.
/// </remarks>
public sealed class OidcProviderServer : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private const int MaxCapturedStderr = 16 * 1024;

    private readonly IReadOnlyList<OidcClientRegistration> _staticClients;
    private readonly string _folder;
    private readonly StringBuilder _stderr = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };
    private Process? _process;
    private Uri? _issuer;
    private int _refreshes;

    /// <summary>The access-token lifetime the server is started with; null for oidc-provider's default (one hour).</summary>
    public TimeSpan? AccessTokenLifetime { get; init; }

    /// <summary>Pushed authorization requests (RFC 9126) at the provider: <c>off</c> (default), <c>optional</c> or <c>required</c>.</summary>
    public string PushedAuthorization { get; init; } = "off";

    /// <summary>Refresh-token grants the server answered successfully (reported by server.mjs on stdout).</summary>
    /// <remarks>Each report is a stdout line read asynchronously, so the count can trail the grant's HTTP answer: to
    /// count a refresh that just happened, use <see cref="RefreshesReportedAsync"/>.</remarks>
    public int Refreshes => Volatile.Read(ref _refreshes);

    /// <summary>
    /// Waits until the server has reported at least <paramref name="atLeast"/> refreshes, then returns the count (which
    /// a test compares exactly, so one refresh too many still fails it).
    /// </summary>
    /// <exception cref="TimeoutException">Fewer were reported within <paramref name="within"/>.</exception>
    public async Task<int> RefreshesReportedAsync(int atLeast, TimeSpan within)
    {
        await O8Actors.TestSupport.Eventually.TrueAsync(() => Refreshes >= atLeast, $"the server reported {atLeast} refreshes", within);
        return Refreshes;
    }

    /// <summary>A provider with no static clients (xUnit fixture constructor); register clients at run time.</summary>
    public OidcProviderServer() : this([]) { }

    /// <summary>A provider that knows <paramref name="staticClients"/> from the start.</summary>
    /// <param name="staticClients">Clients registered at start.</param>
    /// <param name="oidcFolder">The node project to run; default <see cref="RepositoryLayout.OidcFolder"/>.</param>
    public OidcProviderServer(IReadOnlyList<OidcClientRegistration> staticClients, string? oidcFolder = null)
    {
        _staticClients = staticClients;
        _folder = oidcFolder ?? RepositoryLayout.OidcFolder;
    }

    /// <summary>Starts a provider with <paramref name="clients"/> and waits until it listens.</summary>
    /// <exception cref="InvalidOperationException">node_modules is missing (run <c>npm ci</c>), or node failed.</exception>
    public static async Task<OidcProviderServer> StartAsync(
        IReadOnlyList<OidcClientRegistration> clients, string? oidcFolder = null, CancellationToken cancellationToken = default)
    {
        var server = new OidcProviderServer(clients, oidcFolder);
        try
        {
            await server.StartCoreAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The issuer, <c>http://127.0.0.1:PORT</c> (no trailing slash).</summary>
    public Uri Issuer => _issuer ?? throw new InvalidOperationException("The oidc-provider server has not started.");

    /// <summary>The issuer exactly as the provider writes it into <c>iss</c> and discovery metadata.</summary>
    public string IssuerString => Issuer.GetLeftPart(UriPartial.Authority);

    /// <summary>The authorization endpoint (oidc-provider's default route).</summary>
    public Uri AuthorizationEndpoint => new($"{IssuerString}/auth");

    /// <summary>The token endpoint (oidc-provider's default route).</summary>
    public Uri TokenEndpoint => new($"{IssuerString}/token");

    /// <summary>What the provider wrote to stderr so far (bounded), for failure messages.</summary>
    public string StandardError
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <inheritdoc />
    Task IAsyncLifetime.InitializeAsync() => StartCoreAsync(CancellationToken.None);

    /// <inheritdoc />
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    /// <summary>
    /// Registers a new confidential web client for <paramref name="redirectUri"/> through dynamic client registration
    /// (RFC 7591), so a test can use a listener port it only learns after the provider started.
    /// </summary>
    public async Task<OidcClientRegistration> RegisterClientAsync(
        Uri redirectUri, string tokenEndpointAuthMethod = "client_secret_basic", CancellationToken cancellationToken = default,
        IReadOnlyList<Uri>? moreRedirectUris = null, bool dpopBound = false, System.Text.Json.Nodes.JsonObject? publicKey = null,
        Uri? backChannelLogoutUri = null, string? userInfoSignedResponseAlg = null)
    {
        var request = new OidcClientRegistration("ignored", "ignored",
            [redirectUri.ToString(), .. (moreRedirectUris ?? []).Select(u => u.ToString())], tokenEndpointAuthMethod) { DpopBoundAccessTokens = dpopBound };
        var metadata = JsonSerializer.SerializeToNode(request)!.AsObject();
        metadata.Remove("client_id");
        metadata.Remove("client_secret");
        // private_key_jwt: the client's public key, which checks its assertions (RFC 7591 jwks).
        // OpenID Connect Back-Channel Logout 1.0: where the provider posts logout tokens, each naming the session (sid).
        if (backChannelLogoutUri is not null)
        {
            metadata["backchannel_logout_uri"] = backChannelLogoutUri.ToString();
            metadata["backchannel_logout_session_required"] = true;
        }
        // OpenID Connect Core 1.0 section 5.3.2: the UserInfo endpoint answers this client with a signed JWT.
        if (userInfoSignedResponseAlg is not null) metadata["userinfo_signed_response_alg"] = userInfoSignedResponseAlg;
        if (publicKey is not null) metadata["jwks"] = new System.Text.Json.Nodes.JsonObject { ["keys"] = new System.Text.Json.Nodes.JsonArray(publicKey) };

        using var response = await _http.PostAsJsonAsync($"{IssuerString}/reg", metadata, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Client registration at {IssuerString}/reg failed with {(int)response.StatusCode}: {Truncate(body, 500)}");

        var registered = JsonSerializer.Deserialize<RegistrationResponse>(body)
                         ?? throw new InvalidOperationException("Client registration returned an empty body.");
        // A private_key_jwt client gets no secret.
        return request with { ClientId = registered.ClientId, ClientSecret = registered.ClientSecret ?? "" };
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var folder = _folder;
        if (!File.Exists(Path.Combine(folder, "node_modules", "oidc-provider", "package.json")))
        {
            throw new InvalidOperationException(
                $"The oidc-provider npm package is not installed: run `npm ci` in {folder} (.ci/run does this for every tests/*/oidc folder).");
        }

        var node = ExecutableLocator.Require("Install Node.js 20 or later (Debian: apt-get install nodejs npm).", "node");
        var start = new ProcessStartInfo(node)
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true, // server.mjs exits when stdin closes, so a crashed test host leaves no node behind
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("server.mjs");
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add("0");
        start.ArgumentList.Add("--par");
        start.ArgumentList.Add(PushedAuthorization);
        if (AccessTokenLifetime is { } ttl)
        {
            start.ArgumentList.Add("--access-token-ttl");
            start.ArgumentList.Add(((int)ttl.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        // Back-channel logout requests go from the provider to the apps' https endpoints, whose certificates mkcert made.
        if (Https.MkcertCertificate.RootCaFile() is { } rootCa) start.Environment["NODE_EXTRA_CA_CERTS"] = rootCa;
        // Clients go through the environment, not the command line, so secrets stay out of process listings.
        start.Environment["OIDC_CLIENTS"] = JsonSerializer.Serialize(_staticClients);

        var ready = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && TryParseReady(line) is { } issuer) ready.TrySetResult(issuer);
            else if (e.Data == RefreshEventLine) Interlocked.Increment(ref _refreshes);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr)
            {
                if (_stderr.Length < MaxCapturedStderr) _stderr.AppendLine(e.Data);
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException(
            $"The oidc-provider server exited with code {SafeExitCode(process)} before it was ready. stderr:\n{StandardError}"));

        if (!process.Start())
            throw new InvalidOperationException($"Could not start {node} server.mjs in {folder}.");
        _process = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadyTimeout);
        try
        {
            _issuer = await ready.Task.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"The oidc-provider server did not print its ready line within {ReadyTimeout.TotalSeconds:0} s. stderr:\n{StandardError}");
        }
    }

    private const string RefreshEventLine = "{\"event\":\"refresh\"}";

    /// <summary>Whether <paramref name="token"/> is active for <paramref name="client"/> (RFC 7662 introspection).</summary>
    public async Task<bool> IsActiveAsync(OidcClientRegistration client, string token)
    {
        using var response = await PostAsClientAsync(client, "/token/introspection", new() { ["token"] = token });
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("active").GetBoolean();
    }

    /// <summary>The provider's introspection answer for <paramref name="token"/> (RFC 7662), whole.</summary>
    public async Task<JsonDocument> IntrospectAsync(OidcClientRegistration client, string token)
    {
        using var response = await PostAsClientAsync(client, "/token/introspection", new() { ["token"] = token });
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The userinfo endpoint.</summary>
    public Uri UserInfoEndpoint => new($"{IssuerString}/me");

    /// <summary>Revokes <paramref name="token"/> at the provider (RFC 7009), as a user revoking the app would.</summary>
    public async Task RevokeAsync(OidcClientRegistration client, string token)
    {
        using var response = await PostAsClientAsync(client, "/token/revocation", new() { ["token"] = token });
        response.EnsureSuccessStatusCode();
    }

    private async Task<HttpResponseMessage> PostAsClientAsync(OidcClientRegistration client, string path, Dictionary<string, string> form)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{IssuerString}{path}") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(
            System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(client.ClientId)}:{Uri.EscapeDataString(client.ClientSecret)}")));
        return await http.SendAsync(request);
    }

    private static Uri? TryParseReady(string line)
    {
        if (!line.StartsWith('{')) return null;
        try
        {
            var ready = JsonSerializer.Deserialize<ReadyLine>(line);
            return ready is { Ready: true, Issuer: { } issuer } ? new Uri(issuer) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    /// <summary>Stops the node process tree.</summary>
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        var process = _process;
        _process = null;
        if (process is null) return;
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await process.WaitForExitAsync(wait.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (OperationCanceledException)
        {
            // Killed but not reaped in time; the OS finishes it.
        }
        finally
        {
            process.Dispose();
        }
    }

    private sealed record ReadyLine(
        [property: JsonPropertyName("ready")] bool Ready,
        [property: JsonPropertyName("issuer")] string? Issuer);

    private sealed record RegistrationResponse(
        [property: JsonPropertyName("client_id")] string ClientId,
        [property: JsonPropertyName("client_secret")] string? ClientSecret);
}
