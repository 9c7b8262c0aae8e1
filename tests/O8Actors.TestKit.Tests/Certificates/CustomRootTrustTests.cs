using System.Net.Security;
using O8Actors.TestKit.Certificates;

namespace O8Actors.TestKit.Tests.Certificates;

public sealed class CustomRootTrustTests
{
    [Fact]
    public void The_browser_callback_takes_the_platforms_trust_first_and_the_root_only_where_the_platform_refused()
    {
        using var ca = DevelopmentCertificateAuthority.Create();
        using var stranger = DevelopmentCertificateAuthority.Create();
        using var ours = ca.IssueServerCertificate();
        using var theirs = stranger.IssueServerCertificate();
        var browser = CustomRootTrust.CreateBrowserCallback(ca.RootCertificate);
        var strict = CustomRootTrust.CreateCallback(ca.RootCertificate);

        // A certificate the platform trusts (as it would mkcert's once installed) passes without the root...
        Assert.True(browser(this, theirs, null, SslPolicyErrors.None));
        // ...where the strict callback still asks for the root.
        Assert.False(strict(this, theirs, null, SslPolicyErrors.None));
        // A chain the platform refused passes only when it ends at the root.
        Assert.True(browser(this, ours, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(browser(this, theirs, null, SslPolicyErrors.RemoteCertificateChainErrors));
        // A name mismatch is never forgiven.
        Assert.False(browser(this, ours, null, SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch));
    }
}
