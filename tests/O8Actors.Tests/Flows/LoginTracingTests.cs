using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Diagnostics;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Tests.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Flows;

/// <summary>Traces: the caller's activity is the parent of the login's span, and the login's span of its token request.</summary>
public sealed class LoginTracingTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly Uri RedirectUri = new("https://localhost:41539/");

    private readonly ConcurrentQueue<Activity> _started = new();
    private readonly ActivityListener _activities;

    public LoginTracingTests()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == O8Telemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _started.Enqueue,
        };
        ActivitySource.AddActivityListener(_activities);
    }

    protected override void Dispose(bool disposing)
    {
        _activities.Dispose();
        base.Dispose(disposing);
    }

    [Fact]
    public async Task The_login_span_is_a_child_of_the_callers_activity_and_its_token_request_a_child_of_the_login()
    {
        var strategy = new ScriptedStrategy("p") { Gated = false };
        var providers = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(10)));
        await providers.Ask<ProviderRegistered>(new RegisterProvider(strategy), Wait);
        var listener = CreateTestProbe();
        var browser = new RecordingBrowser();
        var supervisor = Sys.ActorOf(FlowsSupervisor.Props(new LoginOptions { Timeout = TimeSpan.FromSeconds(30) }, listener.Ref, providers, browser));
        var completion = new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);

        using (var caller = new Activity("caller").Start())
        {
            supervisor.Tell(new StartFlow("traced", "p", AuthorizationRequest.Default, completion));
            var loginSpan = await AwaitLoginSpanAsync("traced");
            Assert.Equal(caller.TraceId, loginSpan.TraceId);
            Assert.Equal(caller.SpanId, loginSpan.ParentSpanId);

            // The supervisor asks the listener for its redirect URI once; unanswered here, so the login waits for its own answer.
            listener.ExpectMsg<GetListenerStatus>(Wait);
            listener.ExpectMsg<RegisterState>(Wait);
            listener.Reply(new StateRegistered("traced", RedirectUri));
            var flow = listener.LastSender;
            AwaitCondition(() => !browser.Opened.IsEmpty, Wait, Polling.Interval); // now it waits for the callback
            flow.Tell(new AuthorizationCallback("traced", "the-code", null, null, "https://p.test"), listener.Ref);

            Assert.IsType<LoginSucceeded>(await completion.Task.WaitAsync(Wait));
            var tokenRequest = Assert.Single(strategy.Activities);
            Assert.NotNull(tokenRequest);
            Assert.Equal(caller.TraceId, tokenRequest.TraceId);
            Assert.Equal(loginSpan.SpanId, tokenRequest.ParentSpanId);
        }
    }

    [Fact]
    public async Task Without_a_callers_activity_the_login_span_is_a_root()
    {
        var listener = CreateTestProbe();
        var supervisor = Sys.ActorOf(FlowsSupervisor.Props(new LoginOptions(), listener.Ref, CreateTestProbe().Ref, new RecordingBrowser()));
        Activity.Current = null;

        supervisor.Tell(new StartFlow("untraced", "p", AuthorizationRequest.Default,
            new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously)));

        var span = await AwaitLoginSpanAsync("untraced");
        Assert.Equal(default, span.ParentSpanId);
    }

    private async Task<Activity> AwaitLoginSpanAsync(string loginId)
    {
        Activity? found = null;
        await AwaitConditionAsync(() =>
        {
            found = _started.FirstOrDefault(a => a.OperationName == "o8.login" && (string?)a.GetTagItem("o8.login_id") == loginId);
            return Task.FromResult(found is not null);
        }, Wait, Polling.Interval);
        return found!;
    }
}
