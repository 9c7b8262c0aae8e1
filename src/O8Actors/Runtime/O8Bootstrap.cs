using Akka.Actor;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using O8Actors.Browser;
using O8Actors.Configuration;
using O8Actors.Providers;
using Polly;

namespace O8Actors.Runtime;

/// <summary>Creates O8Actors' top-level actors in an actor system; used by the standalone host and Akka.Hosting alike.</summary>
internal static class O8Bootstrap
{
    /// <summary>The named <see cref="HttpClient"/> every provider uses (public as <see cref="OAuthLogins.HttpClientName"/>).</summary>
    public const string HttpClientName = OAuthLogins.HttpClientName;

    /// <summary>The name of the O8 guardian under <c>/user</c>; the other actors are its children.</summary>
    public const string GuardianName = "o8";

    /// <summary>Actor names of the guardian's children.</summary>
    public const string ListenerName = "o8-callback-listener", ProvidersName = "o8-providers", FlowsName = "o8-flows",
        UndeliveredName = "o8-undelivered-logins", AccountsName = "o8-accounts";

    /// <summary>Actor paths of the listener and the flows supervisor (for selections and tests).</summary>
    public const string ListenerPath = "/user/" + GuardianName + "/" + ListenerName, FlowsPath = "/user/" + GuardianName + "/" + FlowsName;

    private static readonly TimeSpan GuardianStartTimeout = TimeSpan.FromSeconds(30);
    /// <summary>The most a provider response may hold (token, refresh, discovery): 1 MB.</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    /// <summary>
    /// Registers the providers' <see cref="HttpClient"/> with a resilience pipeline for safe methods only (discovery
    /// GETs: retries, per-attempt and total timeouts from the exchange timeout) — a token POST is never retried,
    /// since a code is single use and a repeat would burn it (<see cref="SafeMethodRetryHandler"/>). It never follows redirects and reads at most
    /// <see cref="MaxResponseBytes"/> of a response. The app's <c>ConfigureHttpClientDefaults</c> handlers do not reach it
    /// (nor do handlers added to this client before this call): handlers of the app's own go on
    /// <c>AddHttpClient(HttpClientName)</c> after it.
    /// </summary>
    public static IServiceCollection AddO8HttpClient(this IServiceCollection services, TimeSpan exchangeTimeout) =>
        services.AddO8HttpClient(_ => exchangeTimeout);

    /// <summary>
    /// Like <see cref="AddO8HttpClient(IServiceCollection, TimeSpan)"/>, with the exchange timeout read when the
    /// pipeline is built (hosted use: it comes from bound options that do not exist yet at registration).
    /// </summary>
    public static IServiceCollection AddO8HttpClient(this IServiceCollection services, Func<IServiceProvider, TimeSpan> exchangeTimeout)
    {
        services.AddTransient<TokenRequestMetricsHandler>();
        services.TryAddSingleton(sp => new AppHandlersLeftOut(sp.GetService<ILoggerFactory>()));
        services.AddHttpClient(HttpClientName, http =>
            {
                http.Timeout = Timeout.InfiniteTimeSpan;
                // A token response is a few KB; a hostile or broken endpoint must not make us buffer hundreds of MB.
                http.MaxResponseContentBufferSize = MaxResponseBytes;
            })
            // Never follow a redirect: a 307/308 from a token endpoint would re-POST the code, the PKCE verifier and the
            // client secret to wherever it points (RFC 9700 section 4.11). A redirect is an error response instead.
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { AllowAutoRedirect = false })
            // IHttpClientFactory's default request logging opens a scope and writes two lines per token request (the
            // metrics handler below already records each one); O8Actors logs its own, secret-free lines.
            .RemoveAllLoggers()
            // The app's ConfigureHttpClientDefaults run on every named client, before its own configuration: a resilience
            // handler there (Aspire's service defaults) re-sent a failed token POST. Only this client's own stay.
            .ConfigureAdditionalHttpMessageHandlers(AppHandlersLeftOut.Clear)
            // Outermost, so the recorded latency is the whole wait, retries and timeouts included.
            .AddHttpMessageHandler<TokenRequestMetricsHandler>()
            .AddHttpMessageHandler(services => new SafeMethodRetryHandler(RetryPipeline(exchangeTimeout(services))));
        return services;
    }

    /// <summary>
    /// The pipeline of safe requests (discovery, JWKS): a total timeout, up to two retries of transient failures with
    /// jittered exponential backoff (and Retry-After), and a per-attempt timeout, each from the exchange timeout.
    /// </summary>
    private static ResiliencePipeline<HttpResponseMessage> RetryPipeline(TimeSpan exchangeTimeout)
    {
        var timeout = ExchangeTimeouts.TokenRequest(exchangeTimeout);
        return new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddTimeout(timeout)
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = 2,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
            })
            .AddTimeout(timeout)
            .Build();
    }

    /// <summary>
    /// Starts the O8 guardian (<c>/user/o8</c>), which creates the listener, the provider registry, the flows supervisor
    /// and the undelivered-login watcher and supervises them (see <see cref="O8Guardian"/>), and returns their references.
    /// </summary>
    /// <param name="system">Where to create them.</param>
    /// <param name="options">Validated options.</param>
    /// <param name="browser">Opens authorize URLs.</param>
    /// <param name="httpClients">Creates provider HTTP clients.</param>
    /// <param name="loggerFactory">For Kestrel's own logs.</param>
    /// <param name="cancellationToken">Cancels the wait for the guardian.</param>
    /// <param name="bindingVerifier">Server mode: checks each bound login's browser secret (fed from DI's Data Protection).</param>
    /// <param name="tokenStore">Where accounts keep their tokens; null keeps them in memory.</param>
    public static async Task<O8ActorRefs> StartAsync(ActorSystem system, O8Options options, IBrowserLauncher browser,
        IHttpClientFactory httpClients, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default,
        O8Actors.Binding.BrowserBindingVerifier? bindingVerifier = null, ITokenStore? tokenStore = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(httpClients);
        StartScheduler(system);
        // On any orchestrator, not only the OAuthFlow port's own: a flow without a cache name handed this one (hosted
        // AddOAuthFlow, or an app's own OAuthLogins with a file or database store) keeps its tokens in memory, where its
        // instance alone can find them, and never leaves them stored under a name no later run knows.
        if (tokenStore is not null and not InstanceOnlyTokenStore) tokenStore = new InstanceOnlyTokenStore(tokenStore, OAuthFlow.IsInstanceOnly);
        var guardian = system.ActorOf(O8Guardian.Props(options, browser, _ => httpClients.CreateClient(HttpClientName), loggerFactory, bindingVerifier, tokenStore)
            .OnO8Dispatcher(system), GuardianName);
        try
        {
            // The guardian creates its children in its constructor; the answer is the first message it handles.
            return await guardian.Ask<O8ActorRefs>(GetO8Actors.Instance, GuardianStartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // In a system that is not ours (OAuthLoginsSetup.ActorSystem) a half-started O8 must not keep its name.
            guardian.Tell(PoisonPill.Instance);
            throw;
        }
    }

    /// <summary>
    /// Starts the scheduler's worker now, while the process is quiet. Akka starts it lazily on the first schedule, and
    /// every caller that schedules before the worker has run blocks its thread until it has; the worker itself is
    /// queued to the thread pool. A burst of logins right after start (each FlowActor starts a deadline timer, each
    /// Ask a timeout) then blocks every pool thread waiting for a worker that cannot get one: measured here as stalls of
    /// 40 s with 70+ pool threads parked in HashedWheelTimerScheduler.Start. One schedule up front avoids it.
    /// </summary>
    private static void StartScheduler(ActorSystem system) =>
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, static () => { });
}
