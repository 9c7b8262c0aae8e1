using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;

namespace O8Actors.Configuration;

/// <summary>
/// The settings a running O8Actors instance uses: validated once at start and immutable after, so nothing a caller does
/// to its <see cref="O8Options"/> object later (the public, bindable shape) can change a running instance or a login.
/// </summary>
internal sealed record O8Settings(
    O8Settings.ListenerSettings Listener,
    O8Settings.CertificateSettings Certificates,
    O8Settings.LoginSettings Login,
    int MaxConcurrentExchanges,
    int MaxQueuedExchanges,
    TimeSpan RefreshMargin)
{
    /// <summary>Validates <paramref name="options"/> and snapshots them.</summary>
    /// <exception cref="O8ConfigurationException">A setting is invalid; the message names it.</exception>
    public static O8Settings From(O8Options options, string? configurationSection = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(configurationSection);
        var l = options.Listener;
        var c = options.Certificates;
        var login = options.Login;
        return new O8Settings(
            new ListenerSettings(l.Scheme, l.Host, l.Port, l.Path, l.BindIPv6, l.ExternalRedirectUri, l.Start),
            new CertificateSettings(c.Folder, c.CertFile, c.KeyFile, c.AutoCreate, c.Certificate),
            new LoginSettings(login.Timeout, login.ExchangeTimeout, login.Pkce, login.MaxPending, login.MaxPendingPerPartition, login.Method),
            options.Providers.MaxConcurrentExchanges,
            options.Providers.MaxQueuedExchanges,
            options.Tokens.RefreshMargin);
    }

    /// <summary>
    /// The standalone layering: the shipped defaults, then <paramref name="hocon"/>'s <c>o8</c> block, then every setting
    /// the code changed on <paramref name="code"/> (a setting still at its shipped default is taken from the HOCON).
    /// </summary>
    public static O8Options Layer(O8Options code, Config? hocon)
    {
        ArgumentNullException.ThrowIfNull(code);
        var shipped = O8Options.FromConfig();
        var result = O8Options.FromConfig(hocon);

        static T Pick<T>(T changed, T shipped, T layered) => EqualityComparer<T>.Default.Equals(changed, shipped) ? layered : changed;

        return new O8Options
        {
            Listener = new ListenerOptions
            {
                Scheme = Pick(code.Listener.Scheme, shipped.Listener.Scheme, result.Listener.Scheme),
                Host = Pick(code.Listener.Host, shipped.Listener.Host, result.Listener.Host),
                Port = Pick(code.Listener.Port, shipped.Listener.Port, result.Listener.Port),
                Path = Pick(code.Listener.Path, shipped.Listener.Path, result.Listener.Path),
                BindIPv6 = Pick(code.Listener.BindIPv6, shipped.Listener.BindIPv6, result.Listener.BindIPv6),
                Start = Pick(code.Listener.Start, shipped.Listener.Start, result.Listener.Start),
                ExternalRedirectUri = Pick(code.Listener.ExternalRedirectUri, shipped.Listener.ExternalRedirectUri, result.Listener.ExternalRedirectUri),
            },
            Certificates = new CertificateOptions
            {
                Folder = Pick(code.Certificates.Folder, shipped.Certificates.Folder, result.Certificates.Folder),
                CertFile = Pick(code.Certificates.CertFile, shipped.Certificates.CertFile, result.Certificates.CertFile),
                KeyFile = Pick(code.Certificates.KeyFile, shipped.Certificates.KeyFile, result.Certificates.KeyFile),
                AutoCreate = Pick(code.Certificates.AutoCreate, shipped.Certificates.AutoCreate, result.Certificates.AutoCreate),
                Certificate = code.Certificates.Certificate,
            },
            Login = new LoginOptions
            {
                Timeout = Pick(code.Login.Timeout, shipped.Login.Timeout, result.Login.Timeout),
                ExchangeTimeout = Pick(code.Login.ExchangeTimeout, shipped.Login.ExchangeTimeout, result.Login.ExchangeTimeout),
                Pkce = Pick(code.Login.Pkce, shipped.Login.Pkce, result.Login.Pkce),
                MaxPending = Pick(code.Login.MaxPending, shipped.Login.MaxPending, result.Login.MaxPending),
                MaxPendingPerPartition = Pick(code.Login.MaxPendingPerPartition, shipped.Login.MaxPendingPerPartition,
                    result.Login.MaxPendingPerPartition),
                Method = Pick(code.Login.Method, shipped.Login.Method, result.Login.Method),
            },
            Providers = new ProviderLimitOptions
            {
                MaxConcurrentExchanges = Pick(code.Providers.MaxConcurrentExchanges, shipped.Providers.MaxConcurrentExchanges,
                    result.Providers.MaxConcurrentExchanges),
                MaxQueuedExchanges = Pick(code.Providers.MaxQueuedExchanges, shipped.Providers.MaxQueuedExchanges,
                    result.Providers.MaxQueuedExchanges),
            },
            Tokens = new TokenOptions
            {
                RefreshMargin = Pick(code.Tokens.RefreshMargin, shipped.Tokens.RefreshMargin, result.Tokens.RefreshMargin),
            },
        };
    }

    /// <summary>
    /// A private <see cref="O8Options"/> with these values, for components that still take the options shape; nobody
    /// else holds it, so it cannot change under them.
    /// </summary>
    public O8Options ToOptions() => new()
    {
        Listener = new ListenerOptions
        {
            Scheme = Listener.Scheme, Host = Listener.Host, Port = Listener.Port, Path = Listener.Path,
            BindIPv6 = Listener.BindIPv6, ExternalRedirectUri = Listener.ExternalRedirectUri, Start = Listener.Start,
        },
        Certificates = new CertificateOptions
        {
            Folder = Certificates.Folder, CertFile = Certificates.CertFile, KeyFile = Certificates.KeyFile,
            AutoCreate = Certificates.AutoCreate, Certificate = Certificates.Certificate,
        },
        Login = new LoginOptions
        {
            Timeout = Login.Timeout, ExchangeTimeout = Login.ExchangeTimeout, Pkce = Login.Pkce,
            MaxPending = Login.MaxPending, MaxPendingPerPartition = Login.MaxPendingPerPartition, Method = Login.Method,
        },
        Providers = new ProviderLimitOptions { MaxConcurrentExchanges = MaxConcurrentExchanges, MaxQueuedExchanges = MaxQueuedExchanges },
        Tokens = new TokenOptions { RefreshMargin = RefreshMargin },
    };

    /// <summary><c>o8.listener</c>.</summary>
    internal sealed record ListenerSettings(string Scheme, string Host, int Port, string Path, bool BindIPv6, Uri? ExternalRedirectUri,
        ListenerStart Start = ListenerStart.AtStart)
    {
        /// <summary>Whether the listener uses TLS.</summary>
        public bool UseHttps => string.Equals(Scheme, "https", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>o8.certificates</c>; <paramref name="Certificate"/> is a certificate given in code, used as is.</summary>
    internal sealed record CertificateSettings(string Folder, string CertFile, string KeyFile, bool AutoCreate, X509Certificate2? Certificate)
    {
        /// <summary>The folder in use.</summary>
        public string ResolvedFolder => string.IsNullOrWhiteSpace(Folder) ? CertificateOptions.DefaultFolder : Folder;
    }

    /// <summary><c>o8.login</c>.</summary>
    internal sealed record LoginSettings(TimeSpan Timeout, TimeSpan ExchangeTimeout, bool Pkce, int MaxPending, int MaxPendingPerPartition,
        LoginMethod Method = LoginMethod.Browser);
}
