using Xunit;

namespace O8Actors.TestKit;

/// <summary>
/// An <see cref="O8TestHarness"/> shared by the tests of one class (<c>IClassFixture&lt;O8HarnessFixture&gt;</c>) or of
/// a collection: xUnit starts it before the first test and stops it after the last. Subclass it and override
/// <see cref="ConfigureHarness"/> to change the options. The harness runs in an actor system of its own.
/// </summary>
public class O8HarnessFixture : IAsyncLifetime
{
    private O8TestHarness? _harness;

    /// <summary>The started harness.</summary>
    public O8TestHarness Harness => _harness ?? throw new InvalidOperationException("The fixture starts its harness in InitializeAsync; xUnit calls it before the first test.");

    /// <summary>Adjusts the harness options before the harness starts.</summary>
    /// <param name="options">Defaults; change what the tests need.</param>
    protected virtual void ConfigureHarness(O8TestHarnessOptions options)
    {
    }

#if XUNIT_V3
    /// <summary>Starts the harness (xUnit calls this).</summary>
    public async ValueTask InitializeAsync() => await StartAsync().ConfigureAwait(false);

    /// <summary>Stops the harness (xUnit calls this).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
#else
    /// <summary>Starts the harness (xUnit calls this).</summary>
    public Task InitializeAsync() => StartAsync();

    /// <summary>Stops the harness (xUnit calls this).</summary>
    public Task DisposeAsync() => StopAsync();
#endif

    private async Task StartAsync()
    {
        var options = new O8TestHarnessOptions();
        ConfigureHarness(options);
        _harness = await O8TestHarness.StartAsync(options).ConfigureAwait(false);
    }

    private async Task StopAsync()
    {
        if (_harness is not null) await _harness.DisposeAsync().ConfigureAwait(false);
    }
}
