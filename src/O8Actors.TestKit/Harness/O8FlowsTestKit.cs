using Akka.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace O8Actors.TestKit;

/// <summary>
/// A base class for flow tests on Akka.TestKit.Xunit2: each test gets a started <see cref="O8TestHarness"/>
/// (<see cref="O8"/>) and a <see cref="TestProbe"/> (<see cref="FlowEvents"/>) that receives every <see cref="FlowEvent"/>
/// of its orchestrator. Override <see cref="ConfigureHarness"/> to change the harness options.
/// <code>
/// public sealed class MyFlowTests(ITestOutputHelper output) : O8FlowsTestKit(output)
/// {
///     [Fact]
///     public async Task Denied_login_ends_denied()
///     {
///         var login = await O8.RunAsync(LoginScript.Deny());
///         FlowEvents.FishForMessage&lt;FlowEndedEvent&gt;(e =&gt; e.FlowId == login.Outcome.FlowId);
///     }
/// }
/// </code>
/// </summary>
public abstract class O8FlowsTestKit : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private O8TestHarness? _harness;
    private TestProbe? _flowEvents;

    /// <summary>Creates the test kit (its own actor system hosts nothing of O8Actors; the harness has its own).</summary>
    /// <param name="output">xUnit's output, for Akka's log.</param>
    protected O8FlowsTestKit(ITestOutputHelper? output = null)
        : base((Akka.Actor.ActorSystem?)null, output)
    {
    }

    /// <summary>The harness of the running test.</summary>
    protected O8TestHarness O8 => _harness ?? throw new InvalidOperationException("The harness starts in InitializeAsync, before each test.");

    /// <summary>A probe on the orchestrator's actor system receiving every <see cref="FlowEvent"/>.</summary>
    protected TestProbe FlowEvents => _flowEvents ?? throw new InvalidOperationException("The probe is created in InitializeAsync, before each test.");

    /// <summary>Adjusts the harness options before the harness starts.</summary>
    /// <param name="options">Defaults; change what the test class needs.</param>
    protected virtual void ConfigureHarness(O8TestHarnessOptions options)
    {
    }

    /// <summary>Starts the harness and subscribes <see cref="FlowEvents"/> (xUnit calls this before each test).</summary>
    public virtual async Task InitializeAsync()
    {
        var options = new O8TestHarnessOptions();
        ConfigureHarness(options);
        _harness = await O8TestHarness.StartAsync(options).ConfigureAwait(false);
        _flowEvents = _harness.CreateEventProbe(this, "o8-flow-events");
    }

    /// <summary>Stops the harness (xUnit calls this after each test; the test kit's own system stops in Dispose).</summary>
    public virtual async Task DisposeAsync()
    {
        if (_harness is not null) await _harness.DisposeAsync().ConfigureAwait(false);
    }
}
