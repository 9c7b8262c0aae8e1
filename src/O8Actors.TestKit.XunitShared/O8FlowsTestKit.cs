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
/// A base class for flow tests: each test gets a started <see cref="O8TestHarness"/> (<see cref="O8"/>) running in the
/// test kit's own actor system (<c>Sys</c>), so <c>TestActor</c>, <c>CreateTestProbe()</c> and the event stream are
/// those of the system under test; <see cref="LoginEvents"/> is a probe subscribed to every <see cref="LoginEvent"/>.
/// Pass <see cref="O8TestHarnessOptions"/> to the constructor: they shape the actor system too (virtual time).
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
    private readonly O8TestHarnessOptions _options;
    private O8TestHarness? _harness;
    private TestProbe? _loginEvents;

    /// <summary>Creates the test kit with the default harness options (real time).</summary>
    /// <param name="output">xUnit's output, for Akka's log.</param>
    protected O8FlowsTestKit(ITestOutputHelper? output = null)
        : this(null, output)
    {
    }

    /// <summary>Creates the test kit with <paramref name="options"/>.</summary>
    /// <param name="options">
    /// The harness options; <c>null</c> for the defaults. They are read here because the actor system is built here:
    /// with <see cref="O8TestHarnessOptions.VirtualTime"/> it runs on Akka's <see cref="TestScheduler"/>.
    /// </param>
    /// <param name="output">xUnit's output, for Akka's log.</param>
    protected O8FlowsTestKit(O8TestHarnessOptions? options, ITestOutputHelper? output = null)
        : base(O8TestHarness.ActorSystemConfig(options), null, output)
    {
        _options = options ?? new O8TestHarnessOptions();
    }

    /// <summary>The harness of the running test; its <see cref="O8TestHarness.System"/> is <c>Sys</c>.</summary>
    protected O8TestHarness O8 => _harness ?? throw new InvalidOperationException("The harness starts in InitializeAsync, before each test.");

    /// <summary>A probe of <c>Sys</c> subscribed to every <see cref="LoginEvent"/> on its event stream.</summary>
    protected TestProbe LoginEvents => _loginEvents ?? throw new InvalidOperationException("The probe is created in InitializeAsync, before each test.");

#if XUNIT_V3
    /// <summary>Starts the harness in <c>Sys</c> and subscribes <see cref="LoginEvents"/> (xUnit calls this before each test).</summary>
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync().ConfigureAwait(false);
        await StartHarnessAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops the harness, then the test kit's actor system (xUnit calls this after each test). The system is terminated
    /// even when stopping the harness throws (a part failed to release); that failure is then rethrown.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        try
        {
            await StopHarnessAsync().ConfigureAwait(false);
        }
        finally
        {
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
#else
    /// <summary>Starts the harness in <c>Sys</c> and subscribes <see cref="LoginEvents"/> (xUnit calls this before each test).</summary>
    public virtual Task InitializeAsync() => StartHarnessAsync();

    /// <summary>Stops the harness (xUnit calls this after each test; the test kit's system stops in Dispose, after it).</summary>
    public virtual Task DisposeAsync() => StopHarnessAsync();
#endif

    private async Task StartHarnessAsync()
    {
        // Subscribed before the harness starts, so no event of this test can precede the probe.
        _loginEvents = CreateTestProbe("o8-login-events");
        Sys.EventStream.Subscribe(_loginEvents.Ref, typeof(LoginEvent));
        _harness = await O8TestHarness.StartAsync(Sys, _options).ConfigureAwait(false);
    }

    private async Task StopHarnessAsync()
    {
        if (_harness is not null) await _harness.DisposeAsync().ConfigureAwait(false);
    }
}
