using Akka.Actor;
using Akka.Configuration;
using O8Actors.Flows;
using O8Actors.Runtime;
using O8Actors.Tests.Flows;

namespace O8Actors.Tests.Lifecycle;

/// <summary>
/// O8Actors' actors run on its own dispatcher, each login's actor on the flow dispatcher with the compact mailbox, and
/// the app's own actors keep Akka's default dispatcher (hocon/o8.conf); an app's values for O8Actors' dispatcher win.
/// </summary>
public sealed class DispatcherTests
{
    [Theory]
    [InlineData(null, "channel-executor")]
    [InlineData("o8.dispatcher.executor = default-executor\no8.flow-dispatcher.executor = default-executor", "default-executor")]
    public async Task O8Actors_actors_run_on_its_own_dispatcher_and_the_apps_actors_on_the_default(string? hocon, string executor)
    {
        var browser = new RecordingBrowser();
        await using var logins = await LoginsTestSupport.StartAsync(browser, setup =>
        {
            if (hocon is not null) setup.Hocon = ConfigurationFactory.ParseString(hocon);
        });
        var url = LoginsTestSupport.NextAuthorizeUrl(logins, out var subscription);
        using var _ = subscription;
        using var cancel = new CancellationTokenSource();
        var login = logins.RunAsync(LoginsTestSupport.Provider, cancellationToken: cancel.Token);
        await url;
        var system = logins.System;

        const string guardian = "/user/" + O8Bootstrap.GuardianName;
        foreach (var path in new[] { O8Bootstrap.ListenerPath, O8Bootstrap.FlowsPath, $"{guardian}/{O8Bootstrap.ProvidersName}", $"{guardian}/{O8Bootstrap.AccountsName}", guardian })
        {
            var cell = CellOf(await system.ActorSelection(path).ResolveOne(TimeSpan.FromSeconds(5)));
            Assert.Equal(O8Dispatchers.ConfigPath, cell.Dispatcher.Id);
            Assert.Equal(executor, ExecutorOf(cell.Dispatcher));
        }

        var flow = CellOf(await system.ActorSelection(O8Bootstrap.FlowsPath + "/*").ResolveOne(TimeSpan.FromSeconds(5)));
        Assert.Equal(O8Dispatchers.FlowConfigPath, flow.Dispatcher.Id);
        Assert.IsType<FlowMessageQueue>(flow.Mailbox!.MessageQueue);
        Assert.Equal(executor, ExecutorOf(flow.Dispatcher));

        var app = system.ActorOf(Props.Create(() => new AppActor()));
        await app.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(5)); // started: a top-level actor starts asynchronously
        var appActor = CellOf(app);
        Assert.Equal("akka.actor.default-dispatcher", appActor.Dispatcher.Id);

        cancel.Cancel();
        Assert.IsType<LoginCancelled>(await login);
    }

    private static ActorCell CellOf(IActorRef actor) => (ActorCell)((ActorRefWithCell)actor).Underlying;

    // Akka has no getter for a dispatcher's executor; the configuration it was built from names it.
    private static string ExecutorOf(Akka.Dispatch.MessageDispatcher dispatcher) => dispatcher.Configurator.Config.GetString("executor");

    private sealed class AppActor : ReceiveActor;
}
