using O8Actors.Hosting;
using O8Actors.TestKit;
using O8Actors.TestSupport;

namespace O8Actors.ApiTests;

/// <summary>
/// The public API of each package, approved: one test per package compares it with the checked-in
/// <c>CoreApiSpec.&lt;Test&gt;.approved.txt</c> beside this file (see <see cref="ApiApproval"/> for how a difference is
/// reported and how to accept one: copy the <c>.received.txt</c> over the <c>.approved.txt</c>, or run
/// <c>O8_APPROVE_API=1 dotnet test tests/O8Actors.ApiTests</c>).
/// </summary>
/// <remarks>
/// O8Actors.TestKit.Xunit2 is approved in tests/O8Actors.TestKit.Tests (<c>TestKitXunit2ApiSpec</c>), an xUnit 2
/// project: it and O8Actors.TestKit.Xunit, referenced here, both define <c>O8Actors.TestKit.O8FlowsTestKit</c> and bring
/// the two xUnit generations along, which cannot share one test project. Loading its DLL from the build output instead
/// would not do: PublicApiGenerator resolves base types and interfaces (xUnit 2's <c>IAsyncLifetime</c>,
/// <c>Akka.TestKit.Xunit2.TestKit</c>), and those assemblies are only beside a project that references xUnit 2.
/// </remarks>
public sealed class CoreApiSpec
{
    [Fact]
    public void ApproveCore() => ApiApproval.Verify(typeof(OAuthLogins).Assembly, nameof(CoreApiSpec), nameof(ApproveCore));

    [Fact]
    public void ApproveHosting() => ApiApproval.Verify(typeof(O8HostingOptions).Assembly, nameof(CoreApiSpec), nameof(ApproveHosting));

    [Fact]
    public void ApproveCluster() => ApiApproval.Verify(typeof(O8Actors.Cluster.O8ClusterOptions).Assembly, nameof(CoreApiSpec), nameof(ApproveCluster));

    [Fact]
    public void ApprovePersistence() => ApiApproval.Verify(typeof(O8Actors.Persistence.O8PersistenceOptions).Assembly, nameof(CoreApiSpec), nameof(ApprovePersistence));

    [Fact]
    public void ApproveTestKit() => ApiApproval.Verify(typeof(O8TestHarness).Assembly, nameof(CoreApiSpec), nameof(ApproveTestKit));

    [Fact]
    public void ApproveTestKitXunit() => ApiApproval.Verify(typeof(O8FlowsTestKit).Assembly, nameof(CoreApiSpec), nameof(ApproveTestKitXunit));
}
