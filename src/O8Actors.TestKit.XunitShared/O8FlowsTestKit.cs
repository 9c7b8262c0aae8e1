using Akka.TestKit;
using Xunit;
#if XUNIT_V3
using TestKitBaseClass = Akka.TestKit.Xunit.TestKit;
#else
using Xunit.Abstractions;
using TestKitBaseClass = Akka.TestKit.Xunit2.TestKit;
#endif

namespace O8Actors.TestKit;

/// <summary>
/// A base class for flow tests: each test gets a started <see cref="O8TestHarness"/> (<see cref="O8"/>) and a
/// <see cref="TestProbe"/> (<see cref="LoginEvents"/>) that receives every <see cref="LoginEvent"/> of its orchestrator.
/// Override <see cref="ConfigureHarness"/> to change the harness options.
/// <code>
/// public sealed class MyFlowTests(ITestOutputHelper output) : O8FlowsTestKit(output)
/// {
///     [Fact]
///     public async Task Denied_login_ends_denied()
///     {
///         var login = await O8.RunAsync(LoginScript.Deny());
///         LoginEvents.FishForMessage&lt;LoginEndedEvent&gt;(e =&gt; e.LoginId == login.Outcome.LoginId);
///     }
/// }
/// </code>
/// </summary>
#if XUNIT_V3
public abstract class O8FlowsTestKit : TestKitBaseClass
#else
public abstract class O8FlowsTestKit : TestKitBaseClass, IAsyncLifetime
#endif
{
    private O8TestHarness? _harness;
    private TestProbe? _loginEvents;

    /// <summary>Creates the test kit.</summary>
    /// <param name="output">xUnit's output, for Akka's log.</param>
    protected O8FlowsTestKit(ITestOutputHelper? output = null)
        : base((Akka.Actor.ActorSystem?)null, output)
    {
    }

    /// <summary>The harness of the running test.</summary>
    protected O8TestHarness O8 => _harness ?? throw new InvalidOperationException("The harness starts in InitializeAsync, before each test.");

    /// <summary>A probe on the orchestrator's actor system receiving every <see cref="LoginEvent"/>.</summary>
    protected TestProbe LoginEvents => _loginEvents ?? throw new InvalidOperationException("The probe is created in InitializeAsync, before each test.");

    /// <summary>Adjusts the harness options before the harness starts.</summary>
    /// <param name="options">Defaults; change what the test class needs.</param>
    protected virtual void ConfigureHarness(O8TestHarnessOptions options)
    {
    }

#if XUNIT_V3
    /// <summary>Starts the harness and subscribes <see cref="LoginEvents"/> (xUnit calls this before each test).</summary>
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync().ConfigureAwait(false);
        await StartHarnessAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the harness, then the test kit's actor system (xUnit calls this after each test).</summary>
    public override async ValueTask DisposeAsync()
    {
        await StopHarnessAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
#else
    /// <summary>Starts the harness and subscribes <see cref="LoginEvents"/> (xUnit calls this before each test).</summary>
    public virtual Task InitializeAsync() => StartHarnessAsync();

    /// <summary>Stops the harness (xUnit calls this after each test; the test kit's own system stops in Dispose).</summary>
    public virtual Task DisposeAsync() => StopHarnessAsync();
#endif

    private async Task StartHarnessAsync()
    {
        var options = new O8TestHarnessOptions();
        ConfigureHarness(options);
        _harness = await O8TestHarness.StartAsync(options).ConfigureAwait(false);
        _loginEvents = _harness.CreateEventProbe(this, "o8-login-events");
    }

    private async Task StopHarnessAsync()
    {
        if (_harness is not null) await _harness.DisposeAsync().ConfigureAwait(false);
    }
}
