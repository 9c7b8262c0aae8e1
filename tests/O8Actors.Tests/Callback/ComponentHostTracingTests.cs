using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using O8Actors.Callback;

namespace O8Actors.Tests.Callback;

/// <summary>
/// The app's request tracing (Application Insights, APM agents, OpenTelemetry's ASP.NET Core instrumentation) listens to
/// ASP.NET Core's process-wide diagnostic listener and activity source, both named "Microsoft.AspNetCore", which hand it
/// each request with its URL and query. On the redirect listener that is every callback's code and state: O8Actors' own
/// hosts must announce nothing there, while the app's own host goes on being traced.
/// </summary>
public sealed class ComponentHostTracingTests
{
    private const string AspNetCore = "Microsoft.AspNetCore";

    [Fact]
    public async Task A_request_to_an_O8Actors_host_reaches_none_of_the_apps_request_tracing()
    {
        // Requests of other tests' hosts reach these listeners too: each request here is told apart by its own trace id,
        // which ASP.NET Core takes from the traceparent header for the activity it starts.
        var traced = new ConcurrentQueue<string>();
        using var requests = new AspNetCoreRequests(traced);
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AspNetCore,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = activity => traced.Enqueue($"activity {activity.TraceId}"),
        };
        ActivitySource.AddActivityListener(activities);

        await using var component = await StartAsync(ComponentWebHost.CreateBuilder(typeof(CallbackServerActor), loggerFactory: null));
        await using var app = await StartAsync(WebApplication.CreateSlimBuilder());
        var componentTrace = await GetAsync(component, "?code=the-code&state=the-state");
        var appTrace = await GetAsync(app, "?page=1");

        // The app's own host is traced as before (so these listeners do hear requests)...
        Assert.Contains($"activity {appTrace}", traced);
        Assert.Contains($"request {appTrace} /callback?page=1", traced);
        // ...and O8Actors' host is not: no activity, no request event, no query.
        Assert.DoesNotContain(traced, entry => entry.Contains(componentTrace, StringComparison.Ordinal));
        Assert.DoesNotContain(traced, entry => entry.Contains("the-code", StringComparison.Ordinal));
    }

    private static async Task<WebApplication> StartAsync(WebApplicationBuilder builder)
    {
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(context => context.Response.WriteAsync("ok"));
        await app.StartAsync();
        return app;
    }

    /// <summary>One GET of <c>/callback</c> with a new trace id in its traceparent header; returns that trace id.</summary>
    private static async Task<string> GetAsync(WebApplication host, string query)
    {
        var trace = ActivityTraceId.CreateRandom().ToHexString();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, host.Urls.First() + "/callback" + query);
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return trace;
    }

    /// <summary>Records each request that any diagnostic listener named "Microsoft.AspNetCore" announces: its trace id, path and query.</summary>
    private sealed class AspNetCoreRequests : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly ConcurrentQueue<string> _seen;
        private readonly List<IDisposable> _subscriptions = [];
        private readonly IDisposable _all;

        public AspNetCoreRequests(ConcurrentQueue<string> seen)
        {
            _seen = seen;
            _all = DiagnosticListener.AllListeners.Subscribe(this);
        }

        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name != AspNetCore) return;
            lock (_subscriptions) _subscriptions.Add(listener.Subscribe(this));
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Value is not HttpContext { Request: var request } || value.Key != "Microsoft.AspNetCore.Hosting.HttpRequestIn.Start") return;
            var trace = request.Headers.TraceParent.ToString() is { Length: 55 } parent ? parent[3..35] : "none";
            _seen.Enqueue($"request {trace} {request.Path}{request.QueryString}");
        }

        public void OnCompleted() { }
        public void OnError(Exception error) { }

        public void Dispose()
        {
            _all.Dispose();
            lock (_subscriptions) _subscriptions.ForEach(s => s.Dispose());
        }
    }
}
