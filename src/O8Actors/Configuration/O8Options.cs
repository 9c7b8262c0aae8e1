using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;

namespace O8Actors.Configuration;

/// <summary>
/// Every O8Actors setting. Defaults come from <c>hocon/o8.conf</c> (embedded in the assembly); set properties in
/// code, or bind the <c>O8</c> section of <c>IConfiguration</c>, to override them.
/// </summary>
public sealed class O8Options
{
    private static readonly TimeSpan MinimumExchangeTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaximumExchangeTimeout = TimeSpan.FromDays(1);

    /// <summary>The redirect listener.</summary>
    public ListenerOptions Listener { get; set; } = new();

    /// <summary>Where the listener's certificate comes from.</summary>
    public CertificateOptions Certificates { get; set; } = new();

    /// <summary>Per-login settings.</summary>
    public LoginOptions Login { get; set; } = new();

    /// <summary>Provider actor limits.</summary>
    public ProviderLimitOptions Providers { get; set; } = new();

    /// <summary>The accounts' token cache.</summary>
    public TokenOptions Tokens { get; set; } = new();

    /// <summary>Options read from the <c>o8</c> block of <paramref name="config"/>, with the shipped defaults as fallback.</summary>
    /// <exception cref="O8ConfigurationException">
    /// <paramref name="config"/> has an <c>o8</c> key that is no setting (the message suggests the nearest one), or a
    /// value that does not parse (the message names the key and quotes the value).
    /// </exception>
    public static O8Options FromConfig(Config? config = null)
    {
        O8SettingKeys.CheckHocon(config);
        var o8 = (config ?? Config.Empty).WithFallback(O8Config.Default).GetConfig("o8");
        return new O8Options
        {
            Listener = new ListenerOptions
            {
                Scheme = Read(o8, "listener.scheme", "a string", c => c.GetString("listener.scheme")),
                Host = Read(o8, "listener.host", "a string", c => c.GetString("listener.host")),
                Port = Read(o8, "listener.port", "a port number", c => c.GetInt("listener.port")),
                Path = Read(o8, "listener.path", "a string", c => c.GetString("listener.path")),
                BindIPv6 = Read(o8, "listener.bind-ipv6", "on or off", c => c.GetBoolean("listener.bind-ipv6")),
                Start = Read(o8, "listener.start", "at-start, on-first-use or while-needed", c => ParseListenerStart(c.GetString("listener.start"))),
                ExternalRedirectUri = Read(o8, "listener.external-redirect-uri", "a URI", c =>
                    c.GetString("listener.external-redirect-uri", "") is { Length: > 0 } external
                        ? new Uri(external, UriKind.RelativeOrAbsolute)
                        : null),
            },
            Certificates = new CertificateOptions
            {
                Folder = Read(o8, "certificates.folder", "a string", c => c.GetString("certificates.folder")),
                CertFile = Read(o8, "certificates.cert-file", "a string", c => c.GetString("certificates.cert-file")),
                KeyFile = Read(o8, "certificates.key-file", "a string", c => c.GetString("certificates.key-file")),
                AutoCreate = Read(o8, "certificates.auto-create", "on or off", c => c.GetBoolean("certificates.auto-create")),
            },
            Login = new LoginOptions
            {
                Timeout = ReadDuration(o8, "login.timeout", "120s"),
                ExchangeTimeout = ReadDuration(o8, "login.exchange-timeout", "30s"),
                Pkce = Read(o8, "login.pkce", "on or off", c => c.GetBoolean("login.pkce")),
                MaxPending = Read(o8, "login.max-pending", "a whole number", c => c.GetInt("login.max-pending")),
                MaxPendingPerPartition = Read(o8, "login.max-pending-per-partition", "a whole number",
                    c => c.GetInt("login.max-pending-per-partition")),
                Method = Read(o8, "login.method", "browser, device or auto", c => ParseMethod(c.GetString("login.method"))),
            },
            Providers = new ProviderLimitOptions
            {
                MaxConcurrentExchanges = Read(o8, "providers.max-concurrent-exchanges", "a whole number",
                    c => c.GetInt("providers.max-concurrent-exchanges")),
                MaxQueuedExchanges = Read(o8, "providers.max-queued-exchanges", "a whole number",
                    c => c.GetInt("providers.max-queued-exchanges")),
            },
            Tokens = new TokenOptions
            {
                RefreshMargin = ReadDuration(o8, "tokens.refresh-margin", "5m"),
            },
        };
    }

    // Akka's getters throw FormatException("banana") without the key: name the setting and quote the value instead.
    /// <summary><c>browser</c>, <c>device</c> or <c>auto</c>, in any case; anything else (a number too) is refused.</summary>
    internal static LoginMethod ParseMethod(string? value) =>
        TryParseMethod(value, out var method) ? method : throw new FormatException($"'{value}' is not a login method.");

    /// <summary>Whether <paramref name="value"/> is a <see cref="LoginMethod"/>'s name, in any case (<see cref="TryParseName{TEnum}"/>).</summary>
    internal static bool TryParseMethod(string? value, out LoginMethod method) => TryParseName(value, out method);

    /// <summary><c>at-start</c>, <c>on-first-use</c> or <c>while-needed</c> (or <c>AtStart</c>, <c>OnFirstUse</c>, <c>WhileNeeded</c>), in any case; anything else is refused.</summary>
    internal static ListenerStart ParseListenerStart(string? value) =>
        TryParseListenerStart(value, out var start) ? start : throw new FormatException($"'{value}' is not a listener start.");

    /// <summary>Whether <paramref name="value"/> names a <see cref="ListenerStart"/> (<see cref="TryParseName{TEnum}"/>).</summary>
    internal static bool TryParseListenerStart(string? value, out ListenerStart start) => TryParseName(value, out start);

    /// <summary>
    /// Whether <paramref name="value"/> names one of <typeparamref name="TEnum"/>'s values: its name (<c>OnFirstUse</c>) or
    /// its HOCON spelling (<c>on-first-use</c>), in any case. Names only: <c>Enum.TryParse</c> would also take numbers and
    /// comma lists.
    /// </summary>
    private static bool TryParseName<TEnum>(string? value, out TEnum parsed) where TEnum : struct, Enum
    {
        var name = value?.Trim().Replace("-", "", StringComparison.Ordinal);
        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (!string.Equals(candidate.ToString(), name, StringComparison.OrdinalIgnoreCase)) continue;
            parsed = candidate;
            return true;
        }

        parsed = default;
        return false;
    }

    /// <summary>
    /// A duration with its unit (<c>120s</c>, <c>2m</c>). A bare number is refused: HOCON would take <c>120</c> as
    /// milliseconds (every login timing out at once), the configuration binder as days; with a unit it means one thing.
    /// </summary>
    private static TimeSpan ReadDuration(Config o8, string key, string example) =>
        Read(o8, key, $"a duration with its unit, such as {example}", c =>
            double.TryParse(c.GetString(key)?.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? throw new FormatException("A duration without a unit.")
                : c.GetTimeSpan(key));

    private static T Read<T>(Config o8, string key, string expected, Func<Config, T> read)
    {
        try
        {
            return read(o8);
        }
        catch (Exception ex) when (ex is not O8ConfigurationException)
        {
            string raw;
            try
            {
                raw = o8.GetString(key) ?? "";
            }
            catch (Exception)
            {
                raw = "(not a single value)";
            }

            throw new O8ConfigurationException($"o8.{key}", $"'{raw}' is not {expected}", innerException: ex);
        }
    }

    /// <summary>Checks every setting and throws <see cref="O8ConfigurationException"/> naming the first bad one.</summary>
    /// <param name="configurationSection">The <c>IConfiguration</c> section the settings are bound from (for the message; default <c>O8</c>).</param>
    public O8Options Validate(string? configurationSection = null)
    {
        void Require(bool ok, string setting, string why)
        {
            if (!ok) throw new O8ConfigurationException(setting, why, configurationSection);
        }

        Require(Listener is not null, "o8.listener", "must be set");
        Require(Certificates is not null, "o8.certificates", "must be set");
        Require(Login is not null, "o8.login", "must be set");
        Require(Providers is not null, "o8.providers", "must be set");
        Require(Listener!.Scheme is "https" or "http", "o8.listener.scheme", $"must be 'https' or 'http', not '{Listener.Scheme}'");
        Require(Listener.Port is >= 0 and <= 65535, "o8.listener.port", $"must be 0..65535, not {Listener.Port}");
        var pathProblem = Callback.RedirectPaths.ListenerPathProblem(Listener.Path);
        Require(pathProblem is null, "o8.listener.path", pathProblem!);
        // Only the names of the addresses the listener binds: another loopback address (127.8.9.10) or form
        // (::ffff:127.0.0.1) would put a redirect URI where nothing listens, and every login would time out.
        Require(LoopbackNames.IsListenerHost(Listener.Host, Listener.BindIPv6), "o8.listener.host",
            LoopbackNames.IsIPv6Loopback(Listener.Host)
                ? $"is '{Listener.Host}', but 'o8.listener.bind-ipv6' is off, so nothing would listen there: turn it on, or use localhost or 127.0.0.1"
                : $"must be localhost, 127.0.0.1 or [::1] (the addresses the listener binds), not '{Listener.Host}'");
        if (Listener.ExternalRedirectUri is { } external)
        {
            // Server mode: the host app serves the callback, so its public URI is the redirect URI.
            Require(external.IsAbsoluteUri, "o8.listener.external-redirect-uri", $"must be an absolute URI, not '{external.OriginalString}'");
            Require(external.Scheme == Uri.UriSchemeHttps || (external.Scheme == Uri.UriSchemeHttp && LoopbackNames.IsLoopbackHost(external.Host)),
                "o8.listener.external-redirect-uri", $"must be https (plain http only on a loopback host), not '{external}'");
            Require(string.IsNullOrEmpty(external.Query) && string.IsNullOrEmpty(external.Fragment), "o8.listener.external-redirect-uri",
                "must not have a query or fragment");
            // Server mode binds nothing, so there is nothing to put off: a setting that cannot do what it says is refused.
            Require(Listener.Start == ListenerStart.AtStart, "o8.listener.start",
                "must be at-start in server mode (o8.listener.external-redirect-uri is set): the host app's own endpoint takes the " +
                "callbacks and no loopback listener is bound, at start or later");
        }
        Require(Enum.IsDefined(Listener.Start), "o8.listener.start", $"must be at-start, on-first-use or while-needed, not {(int)Listener.Start}");
        Require(!string.IsNullOrWhiteSpace(Certificates!.CertFile), "o8.certificates.cert-file", "must not be empty");
        Require(!string.IsNullOrWhiteSpace(Certificates.KeyFile), "o8.certificates.key-file", "must not be empty");
        Require(Login!.Timeout > TimeSpan.Zero && Login.Timeout <= AuthorizationRequest.MaximumTimeout, "o8.login.timeout", $"must be positive and at most one day, not {Login.Timeout}");
        Require(Tokens is not null, "o8.tokens", "must be set");
        Require(Tokens!.RefreshMargin >= TimeSpan.Zero, "o8.tokens.refresh-margin", "must not be negative");
        // The token requests' HTTP pipeline takes a timeout of 10 ms to one day; outside that it would refuse to be
        // built at the first token request, after the user had signed in.
        Require(Login.ExchangeTimeout >= MinimumExchangeTimeout && Login.ExchangeTimeout <= MaximumExchangeTimeout, "o8.login.exchange-timeout",
            $"must be between 10 ms and one day, not {Login.ExchangeTimeout}");
        Require(Providers!.MaxConcurrentExchanges > 0, "o8.providers.max-concurrent-exchanges", "must be at least 1");
        Require(Login.MaxPending > 0, "o8.login.max-pending", $"must be at least 1, not {Login.MaxPending}");
        Require(Login.MaxPendingPerPartition > 0, "o8.login.max-pending-per-partition", $"must be at least 1, not {Login.MaxPendingPerPartition}");
        Require(Providers.MaxQueuedExchanges >= 0, "o8.providers.max-queued-exchanges", $"must be 0 or more, not {Providers.MaxQueuedExchanges}");
        return this;
    }
}

/// <summary>The redirect listener (<c>o8.listener</c>).</summary>
public sealed class ListenerOptions
{
    /// <summary><c>https</c> (mkcert certificate, the default) or <c>http</c> (plain loopback, RFC 8252 section 7.3).</summary>
    public string Scheme { get; set; } = "https";

    /// <summary>Host name put into redirect URIs; must be a loopback name.</summary>
    public string Host { get; set; } = "localhost";

    /// <summary>The one port all logins share (default 41539, as the original). 0 picks a free port.</summary>
    public int Port { get; set; } = 41539;

    /// <summary>The callback path (default <c>/</c>).</summary>
    public string Path { get; set; } = "/";

    /// <summary>Also bind <c>[::1]</c>.</summary>
    public bool BindIPv6 { get; set; } = true;

    /// <summary>The listener's redirect URI when it listens on <paramref name="port"/>: scheme, host, port and path.</summary>
    internal Uri RedirectUriOn(int port)
    {
        var host = Host;
        // A bare IPv6 literal needs brackets in a URI.
        if (host.Contains(':') && !host.StartsWith('[')) host = $"[{host}]";
        return new Uri($"{Scheme.ToLowerInvariant()}://{host}:{port}{Path}", UriKind.Absolute);
    }

    /// <summary>
    /// When the listener binds its port (<c>o8.listener.start</c>): <see cref="ListenerStart.AtStart"/> (default),
    /// <see cref="ListenerStart.OnFirstUse"/>, for a CLI that runs as several processes on one fixed port, or that often
    /// needs no browser at all (cached tokens, refreshes, device logins), or <see cref="ListenerStart.WhileNeeded"/>, which
    /// also releases the port whenever no sign-in has needed it for a while.
    /// </summary>
    /// <remarks>
    /// <para>With <see cref="ListenerStart.OnFirstUse"/>, start neither binds the port nor looks for the certificate: looking
    /// may run mkcert, which writes files and may wait a minute on another process's lock, and a missing certificate
    /// would fail the start of an app on a server or over SSH that only runs device logins. The first call that needs
    /// the listener binds it, certificate included: a browser login (when it registers its <c>state</c>), a sign-out
    /// with <see cref="SignOutOptions.EndingProviderSession"/>, or <see cref="IOAuthLogins.GetRedirectUriAsync(CancellationToken)"/>
    /// (whose caller wants the real URI, port included, to register it). Device logins, cached-token reads, refreshes,
    /// UserInfo calls and sign-outs that keep the provider's session never bind. <see cref="IOAuthLogins.GetStatusAsync"/>
    /// does not bind either: until then it reports the listener unbound, without a redirect URI.</para>
    /// <para>Calls that need the listener while it binds share that one bind. If it fails, each of them fails as a start
    /// would have: a browser login ends as <see cref="LoginFailed"/> with <see cref="LoginFailure.ListenerUnavailable"/> and the
    /// failure's message, and <c>AuthorizeAsync</c> throws <see cref="ListenerPortInUseException"/>,
    /// <see cref="CertificateNotFoundException"/> or <see cref="ListenerStartException"/>, as <c>StartAsync</c> would. A failed
    /// bind is not kept: the next call that needs the listener tries again (the other process may have ended, the
    /// certificate may have been made), and <see cref="IOAuthLogins.GetStatusAsync"/> reports the last failure until then.
    /// Once bound, the listener stays bound until the instance is disposed.</para>
    /// <para><see cref="ListenerStart.WhileNeeded"/> binds the same way, and releases the port once no login or sign-out
    /// has waited for its browser for the time a browser's callback request may wait for its page (the exchange timeout
    /// plus 5 s), so the last browser that came back has had its page; a call that needs the listener while it releases waits
    /// for the release, then binds again. A port of 0 is picked afresh at each bind: a redirect URI read with
    /// <see cref="IOAuthLogins.GetRedirectUriAsync(CancellationToken)"/> then holds only while the listener stays bound, so
    /// give a fixed port (the default 41539) when the URI is registered with the provider.</para>
    /// <para>Server mode (<see cref="ExternalRedirectUri"/>) binds nothing, so this must stay <see cref="ListenerStart.AtStart"/>
    /// there (and with O8Actors.Cluster): <see cref="ListenerStart.OnFirstUse"/> and <see cref="ListenerStart.WhileNeeded"/> are refused at start.</para>
    /// </remarks>
    public ListenerStart Start { get; set; } = ListenerStart.AtStart;

    /// <summary>
    /// Server mode (<c>o8.listener.external-redirect-uri</c>, empty by default): the public redirect URI of a web
    /// back end whose own ASP.NET Core pipeline serves the callback (<c>app.MapOAuthCallback(...)</c>). When set,
    /// no loopback listener is started and every login uses this URI.
    /// </summary>
    public Uri? ExternalRedirectUri { get; set; }

    /// <summary>Whether the listener uses TLS.</summary>
    public bool UseHttps => string.Equals(Scheme, "https", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The listener's certificate (<c>o8.certificates</c>).</summary>
public sealed class CertificateOptions
{
    /// <summary>Folder of the mkcert PEM files; empty means <see cref="DefaultFolder"/>.</summary>
    public string Folder { get; set; } = "";

    /// <summary>Certificate file name inside <see cref="Folder"/>.</summary>
    public string CertFile { get; set; } = "localhost.pem";

    /// <summary>Private key file name inside <see cref="Folder"/>.</summary>
    public string KeyFile { get; set; } = "localhost-key.pem";

    /// <summary>
    /// Create the files with <c>mkcert</c> when they are missing, or remake them when they are unusable (expired, not yet
    /// valid, not naming the listener's host, another certificate's key), and mkcert is on PATH with its CA made. A running
    /// listener then also remakes a certificate that CA issued once it is within 7 days of its end.
    /// </summary>
    public bool AutoCreate { get; set; } = true;

    /// <summary>A certificate to use as is, skipping the files (for tests and for hosts that manage their own).</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary><c>$XDG_DATA_HOME/o8actors/certs</c>, else <c>~/.local/share/o8actors/certs</c> (LocalApplicationData on Windows and macOS).</summary>
    public static string DefaultFolder =>
        System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
            Environment.SpecialFolderOption.DoNotVerify), "o8actors", "certs");

    /// <summary>The folder in use.</summary>
    public string ResolvedFolder => string.IsNullOrWhiteSpace(Folder) ? DefaultFolder : Folder;
}

/// <summary>Per-login settings (<c>o8.login</c>).</summary>
public sealed class LoginOptions
{
    /// <summary>How long a login waits for the browser (default 120 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>How long a token exchange may take (default 30 s).</summary>
    public TimeSpan ExchangeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// PKCE S256 on every login (default on). Off applies to confidential clients only: a public client (no secret or
    /// key) keeps PKCE, the only protection of its codes (RFC 9700 section 2.1.1).
    /// </summary>
    public bool Pkce { get; set; } = true;

    /// <summary>
    /// Logins running at once (default 10,000); past it a new login is refused at once with
    /// <see cref="TooManyPendingLoginsException"/> (<see cref="LoginFailure.TooManyPendingLogins"/>). Sign-outs' browser
    /// steps (<see cref="SignOutOptions.EndProviderSession"/>), which wait for a browser as a login does, are bounded by the
    /// same number on their own (one per account: a newer sign-out takes over), never taking a login's slot; past it a
    /// step is refused (<see cref="SignOutResult.ProviderSession"/> is <see cref="ProviderSessionOutcome.Failed"/>; the
    /// tokens are revoked and forgotten all the same).
    /// </summary>
    public int MaxPending { get; set; } = 10_000;

    /// <summary>
    /// Logins running at once for one <see cref="AuthorizationRequest.Partition"/> (default 16), for server mode: one
    /// user (or client address) cannot take every slot of <see cref="MaxPending"/>. Logins without a partition are not counted.
    /// </summary>
    public int MaxPendingPerPartition { get; set; } = 16;

    /// <summary>
    /// How a login signs the user in when its request does not say (<see cref="AuthorizationRequest.Method"/> null):
    /// <see cref="LoginMethod.Browser"/> (default), <see cref="LoginMethod.Device"/> or <see cref="LoginMethod.Auto"/>
    /// (an app that may run headless sets it once). The <see cref="OAuthFlow"/> port's logins are browser logins; in
    /// server mode so are <c>IOAuthConnector.BeginAsync</c>'s, while <c>RunAsync</c>, <c>AuthorizeAsync</c> and an
    /// account's interactive login follow this setting there and run only as device logins (they have no browser to bind).
    /// </summary>
    public LoginMethod Method { get; set; } = LoginMethod.Browser;
}

/// <summary>Provider actor limits (<c>o8.providers</c>).</summary>
public sealed class ProviderLimitOptions
{
    /// <summary>Token requests one provider runs at once (default 32).</summary>
    public int MaxConcurrentExchanges { get; set; } = 32;

    /// <summary>
    /// Token requests one provider holds waiting for a free slot (default 1024); past it a request fails at once and
    /// its login ends as Failed (<see cref="LoginFailure.ExchangeQueueFull"/>). 0 queues none.
    /// </summary>
    public int MaxQueuedExchanges { get; set; } = 1024;
}

/// <summary>The accounts' token cache (<c>o8.tokens</c>).</summary>
public sealed class TokenOptions
{
    /// <summary>
    /// Refresh an access token when it has less than this left (default 5 minutes); capped at half the token's
    /// lifetime. Zero refreshes only at expiry.
    /// </summary>
    public TimeSpan RefreshMargin { get; set; } = TimeSpan.FromMinutes(5);
}
