using System.Security.Cryptography.X509Certificates;

namespace O8Actors.TestKit.Browser;

/// <summary>How a <see cref="ScriptedBrowser"/> behaves.</summary>
public sealed class ScriptedBrowserOptions
{
    /// <summary>
    /// Chooses the action per login from its authorize URL (inspect <c>login_hint</c> or any parameter);
    /// by default every login is <see cref="BrowserAction.Approve"/>d.
    /// </summary>
    public Func<Uri, BrowserAction> Script { get; set; } = static _ => BrowserAction.Approve;

    /// <summary>
    /// An extra root trusted for HTTPS (authorize server and callback), for example
    /// <see cref="Certificates.DevelopmentCertificateAuthority.RootCertificate"/>, on top of the system trust store
    /// (where <c>mkcert -install</c> puts its CA), like a browser where that root was installed.
    /// <c>null</c> (the default) trusts the system store only. Host names must match either way.
    /// </summary>
    public X509Certificate2? TrustedRoot { get; set; }

    /// <summary>How many logins are driven at once (default 16); more wait their turn.</summary>
    public int MaxConcurrency { get; set; } = 16;

    /// <summary>Timeout of each HTTP request the browser makes (default 30 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Landing pages longer than this are cut (default 64 KiB), so a broken server cannot exhaust memory.</summary>
    public int MaxBodyChars { get; set; } = 64 * 1024;

    /// <summary>
    /// How many of the latest visits <see cref="ScriptedBrowser.Visits"/> keeps (default 1000, at least 1), so a long
    /// run does not hold every landing page it ever read; older visits are forgotten, their <see cref="ScriptedVisit.Index"/>
    /// still counts every launch.
    /// </summary>
    public int MaxVisitsKept { get; set; } = 1000;

    /// <summary>
    /// How long <see cref="ScriptedBrowser.VisitAsync(int, System.Threading.CancellationToken)"/> waits for a visit to be launched when its caller gives no
    /// cancellation token (default 30 s, at most about 24 days); then it faults with <see cref="TimeoutException"/>.
    /// </summary>
    public TimeSpan LaunchWait { get; set; } = TimeSpan.FromSeconds(30);
}
