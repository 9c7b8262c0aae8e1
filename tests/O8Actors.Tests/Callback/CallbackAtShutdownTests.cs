using Akka.Actor;
using Akka.Event;
using Microsoft.AspNetCore.Http;
using O8Actors.Callback;
using O8Actors.Runtime;

namespace O8Actors.Tests.Callback;

/// <summary>
/// A server-mode callback waiting for its login when the node's actor system terminates under the running web host (the
/// node downed by split-brain resolution, or leaving its cluster): the termination does not end the Ask, so the browser
/// waited the whole browser wait (35 s) for a 504, and held up the host's drain on stop.
/// </summary>
public sealed class CallbackAtShutdownTests
{
    [Fact]
    public async Task A_callback_waiting_when_the_actor_system_terminates_is_answered_the_shutting_down_page_at_once()
    {
        var system = ActorSystem.Create("app-" + Guid.NewGuid().ToString("N"));
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The listener takes the callback and never answers, as when the system ends before the login does.
        var listener = system.ActorOf(Props.Create(() => new Silent(heard)));
        var handler = new CallbackRequestHandler(listener, "/oauth/callback",
            O8Actors.Providers.ExchangeTimeouts.BrowserWait(O8Actors.Configuration.O8Options.FromConfig().Login.ExchangeTimeout),
            Logging.GetLogger(system, "test"), checkLoopbackHost: false, systemEnd: new ActorSystemEnd(system));
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Host = new HostString("app.example.com");
        context.Request.Path = "/oauth/callback";
        context.Request.QueryString = new QueryString("?state=s&code=c");
        var body = new MemoryStream();
        context.Response.Body = body;

        var handled = handler.HandleAsync(context);
        await heard.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await system.Terminate();

        // Well under the 35 s it waited: the request is answered once the system has ended, not at the Ask's timeout.
        await handled.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Contains("shutting down", System.Text.Encoding.UTF8.GetString(body.ToArray()), StringComparison.Ordinal);
    }

    private sealed class Silent : ReceiveActor
    {
        public Silent(TaskCompletionSource heard) => Receive<CallbackReceived>(_ => heard.TrySetResult());
    }
}
