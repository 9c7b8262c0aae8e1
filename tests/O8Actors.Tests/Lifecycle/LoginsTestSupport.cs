using O8Actors.Providers;
using O8Actors.Tests.Flows;
using O8Actors.Tests.Providers;
using O8Actors.Tests.Support;
using Xunit.Abstractions;

namespace O8Actors.Tests.Lifecycle;

/// <summary>A standalone instance on plain http (free port) whose browser only records URLs: logins wait until cancelled.</summary>
internal static class LoginsTestSupport
{
    public const string Provider = "test";

    public static Task<OAuthLogins> StartAsync(RecordingBrowser browser, Action<OAuthLoginsSetup>? configure = null, ITestOutputHelper? output = null) => OAuthLogins.StartAsync(setup =>
    {
        if (output is not null) setup.LoggerFactory = TestOutputLogging.Factory(output);
        setup.Options.Listener.Port = 0;
        setup.Options.Listener.Scheme = "http";
        setup.Browser = browser;
        setup.Providers.Add(new GenericOAuthStrategy(ProviderTestData.Options(new Uri("https://token.example.test/token"))));
        configure?.Invoke(setup);
    });

    /// <summary>The authorize URL of the next login that gets one.</summary>
    public static Task<Uri> NextAuthorizeUrl(IOAuthLogins flows, out IDisposable subscription)
    {
        var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        subscription = flows.Events.Subscribe(new Observer(e =>
        {
            if (e is AuthorizeUrlReadyEvent ready) url.TrySetResult(ready.AuthorizeUrl);
        }));
        return url.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    public sealed class Observer(Action<LoginEvent> onNext) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value) => onNext(value);
        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }
}
