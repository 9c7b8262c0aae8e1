using O8Actors.TestKit;
using O8Actors.TestSupport;

namespace O8Actors.TestKit.Tests.Api;

/// <summary>
/// The public API of O8Actors.TestKit.Xunit2, approved against <c>TestKitXunit2ApiSpec.ApproveTestKitXunit2.approved.txt</c>
/// beside this file. The other packages are approved in tests/O8Actors.ApiTests (xUnit v3); this one is here because
/// it needs an xUnit 2 project: it and O8Actors.TestKit.Xunit define the same type and bring the two xUnit generations,
/// which cannot share one test project, and PublicApiGenerator must resolve xUnit 2's assemblies to describe it. To
/// accept a change: copy the <c>.received.txt</c> over the <c>.approved.txt</c>, or run
/// <c>O8_APPROVE_API=1 dotnet test tests/O8Actors.TestKit.Tests --filter ApiSpec</c> (see <see cref="ApiApproval"/>).
/// </summary>
public sealed class TestKitXunit2ApiSpec
{
    [Fact]
    public void ApproveTestKitXunit2() =>
        ApiApproval.Verify(typeof(O8FlowsTestKit).Assembly, nameof(TestKitXunit2ApiSpec), nameof(ApproveTestKitXunit2));
}
