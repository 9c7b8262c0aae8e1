using Duende.IdentityModel.Client;
using Duende.IdentityModel.OidcClient;
using Duende.IdentityModel.OidcClient.Browser;
using O8Actors.Browser;
using O8Actors.Providers;

namespace O8Actors.Benchmarks.Independent;

/// <summary>
/// The measured process of the independent setting, as an app runs: its stdout is a pipe to the browser process and
/// carries one line per authorize URL (and nothing else of ours). Side <c>o8</c>: one <see cref="OAuthLogins"/> with a
/// <see cref="GenericOAuthStrategy"/> on the authorization server's endpoints (host localhost). Side <c>oidc</c>:
/// Duende OidcClient with its defaults, a new client per login on a free port (so discovery per login and a new
/// back-channel HttpClient per request). Each login gets a 15 s token. Warm-up logins first, then N measured, both in a
/// closed loop at the given concurrency; the result (this process's CPU over the measured phase) goes to a file.
/// </summary>
internal static class AppRole
{
    private static readonly Lock Gate = new();
    private static readonly TimeSpan PerLogin = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(Args args)
    {
        var side = args.Get("side", "o8");
        var issuer = args.Get("issuer", "");
        var warmup = args.Int("warmup", 10_000);
        var n = args.Int("n", 4000);
        var concurrency = args.Int("concurrency", 256);
        var resultFile = args.Get("result", "");

        Func<int, Task> login;
        IAsyncDisposable? owned = null;
        if (side.StartsWith("o8", StringComparison.Ordinal))
        {
            // o8 is http; o8-https-rsa and o8-https-ecdsa use the driver's mkcert certificate of that kind.
            var certificate = side.StartsWith("o8-https", StringComparison.Ordinal)
                ? O8Actors.Benchmarks.Roles.BenchCertificates.Load(args)
                : null;
            var logins = await StartO8Async(args.Int("port", 0), issuer, certificate);
            owned = logins;
            login = async _ =>
            {
                using var cts = new CancellationTokenSource(PerLogin);
                var tokens = await logins.AuthorizeAsync("sandbox", new AuthorizationRequest(), cts.Token);
                // The setting's token response: access token, refresh token, scope and expiry (checked on both sides).
                if (!tokens.CanRefresh || tokens.Scope is null || tokens.ExpiresAt is null)
                    throw new InvalidOperationException("The token response lacked a refresh token, scope or expiry.");
            };
        }
        else if (side.StartsWith("ceiling", StringComparison.Ordinal) || side.StartsWith("lean", StringComparison.Ordinal))
        {
            // ceiling-*: the O8 side's listener shape without the library; lean-*: the same plus a hand-written token request.
            var certificate = side.Contains("-https", StringComparison.Ordinal)
                ? O8Actors.Benchmarks.Roles.BenchCertificates.Load(args)
                : null;
            var ceiling = await CeilingSide.StartAsync(args.Int("port", 0), issuer, certificate, exchange: side.StartsWith("lean", StringComparison.Ordinal));
            owned = ceiling;
            login = _ => ceiling.LoginAsync(WriteUrl, PerLogin);
        }
        else
        {
            login = _ => PeerLoginAsync(issuer);
        }

        try
        {
            var (_, warmFailed, warmFirst, warmWall) = await LoadLoop.RunAsync(warmup, concurrency, login);
            if (args.Has("blocks"))
            {
                await MeasureBlocksAsync(concurrency, login, warmFailed);
                return 0;
            }

            var result = await O8Actors.Benchmarks.Roles.MeasuredRow.MeasureAsync(n, concurrency, login, args.Has("profile"), side);
            result.Extra!["warmup"] = warmup;
            result.Extra["warmup_failed"] = warmFailed;
            result.Extra["warmup_seconds"] = warmWall.TotalSeconds;
            // A warm-up failure is reported when the measured phase had none: a failure is a failure, whenever it came.
            await File.WriteAllTextAsync(resultFile, (result with { FirstFailure = result.FirstFailure ?? warmFirst }).ToJson());
        }
        finally
        {
            if (owned is not null) await owned.DisposeAsync();
        }

        return 0;
    }

    /// <summary>
    /// <c>--blocks</c> (the independent setting's interleaved mode): after the warm-up, each <c>BLOCK m</c> line on stdin
    /// is answered with <c>BLOCKDONE</c> and the block's result on stderr (stdout is the browser's pipe), until stdin closes.
    /// </summary>
    private static async Task MeasureBlocksAsync(int concurrency, Func<int, Task> login, int warmFailed)
    {
        await Console.Error.WriteLineAsync($"WARMED {warmFailed}");
        string? line;
        while ((line = await Console.In.ReadLineAsync()) is not null && line.StartsWith("BLOCK ", StringComparison.Ordinal))
        {
            var size = int.Parse(line["BLOCK ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            var result = await O8Actors.Benchmarks.Roles.MeasuredRow.MeasureAsync(size, concurrency, login);
            await Console.Error.WriteLineAsync($"BLOCKDONE {result.ToJson()}");
        }
    }

    /// <summary>HOCON the O8Actors app passes as its own configuration (<c>OAuthLoginsSetup.Hocon</c>), as an app would.</summary>
    public const string AppHoconVariable = "O8_BENCH_HOCON";

    /// <summary>One line per authorize URL on stdout, written whole: the browser process reads it through the pipe.</summary>
    private static void WriteUrl(string url)
    {
        lock (Gate)
        {
            Console.Out.Write(url + "\n");
            Console.Out.Flush();
        }
    }

    private static async Task<OAuthLogins> StartO8Async(int port, string issuer, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.Browser = new StdoutBrowser();
            setup.Options.Listener.Port = port;
            setup.Options.Listener.Scheme = certificate is null ? "http" : "https";
            setup.Options.Certificates.Certificate = certificate;
            setup.Options.Certificates.AutoCreate = false;
            // An app's own Akka settings, to measure one of them in this setting (--app-env O8_BENCH_HOCON=...).
            if (Environment.GetEnvironmentVariable(AppHoconVariable) is { Length: > 0 } hocon)
                setup.Hocon = Akka.Configuration.ConfigurationFactory.ParseString(hocon);
        });
        // The endpoints as an app configures them by hand, on host localhost; the issuer is the server's own identifier.
        var local = new UriBuilder(issuer) { Host = "localhost" }.Uri;
        await logins.RegisterProviderAsync(new GenericOAuthStrategy(new GenericOAuthOptions
        {
            Name = "sandbox",
            RedirectPath = "/sandbox",
            AuthorizationEndpoint = new Uri(local, "/authorize"),
            TokenEndpoint = new Uri(local, "/token"),
            ClientId = AuthServerRole.O8Client,
            ClientSecret = AuthServerRole.O8Secret,
            ClientAuthentication = ClientAuthentication.Basic,
            DefaultScopes = ["openid", "offline_access"],
            Issuer = issuer,
            IssuerParameterSupported = true,
        }));
        return logins;
    }

    /// <summary>
    /// The peer as its users run it: a new <see cref="OidcClient"/> per login (its redirect URI names the login's free
    /// port), library defaults otherwise. Two settings this server needs: http discovery on loopback and Basic client
    /// authentication (the registration's method); no profile (O8Actors fetches none: the same work on both sides); and,
    /// as in the other setting, no ID-token signature check (OidcClient 7 ships no validator; O8Actors does not check it
    /// either).
    /// </summary>
    private static async Task PeerLoginAsync(string issuer)
    {
        // The samples' way to pick a port: bind port 0 on loopback, read it, release it.
        var port = O8Actors.Benchmarks.Roles.SamplePorts.Next();
        var client = new OidcClient(new OidcClientOptions
        {
            Authority = issuer,
            ClientId = AuthServerRole.PeerClient,
            ClientSecret = AuthServerRole.PeerSecret,
            TokenClientCredentialStyle = ClientCredentialStyle.AuthorizationHeader,
            RedirectUri = AuthServerRole.PeerRedirect(port),
            Scope = "openid offline_access",
            LoadProfile = false,
            Browser = new O8Actors.Benchmarks.Roles.HttpListenerBrowser(AuthServerRole.PeerRedirect(port), WriteUrl),
            Policy = { Discovery = { RequireHttps = false }, RequireIdentityTokenSignature = false },
        });
        using var cts = new CancellationTokenSource(PerLogin);
        var result = await client.LoginAsync(new LoginRequest(), cts.Token);
        if (result.IsError) throw new InvalidOperationException($"OidcClient login failed: {result.Error}");
        if (result.RefreshToken is null || result.AccessTokenExpiration == default || result.TokenResponse?.Scope is null)
            throw new InvalidOperationException("The token response lacked a refresh token, scope or expiry.");
    }

    private sealed class StdoutBrowser : IBrowserLauncher
    {
        public Task<BrowserLaunchResult> LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
        {
            WriteUrl(authorizeUrl.AbsoluteUri);
            return Task.FromResult(BrowserLaunchResult.Opened("stdout"));
        }
    }
}
