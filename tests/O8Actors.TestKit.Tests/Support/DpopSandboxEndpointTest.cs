using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit.Tests.Support;

/// <summary>A <see cref="SandboxEndpointTest"/> with DPoP on (optional) and a raw <see cref="DpopTokenProbe"/> on the test's clock.</summary>
public abstract class DpopSandboxEndpointTest : SandboxEndpointTest, IDisposable
{
    private DpopTokenProbe? _probe;

    protected DpopTokenProbe Probe => _probe ??= new DpopTokenProbe(Server, Client.Http, Time);

    protected override void Configure(SandboxOptions options) => options.Dpop = SandboxDpop.Optional;

    public void Dispose()
    {
        _probe?.Dispose();
        GC.SuppressFinalize(this);
    }
}
