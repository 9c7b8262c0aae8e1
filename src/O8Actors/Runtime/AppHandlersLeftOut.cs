using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace O8Actors.Runtime;

/// <summary>
/// Takes the app's handlers off the providers' <see cref="HttpClient"/>: those of <c>ConfigureHttpClientDefaults</c>
/// and those added to the client by its name before <c>AddOAuthLogins</c>. A retrying handler there re-sent a failed
/// token POST (a code or a rotated refresh token sent twice ends the grant, RFC 6749 section 4.1.2), and a logging one
/// read request bodies. Says so once per service provider, naming the handlers, so an app that meant one for this client
/// (an egress proxy's credentials) learns why its token requests go without it, and where to add it instead.
/// </summary>
internal sealed class AppHandlersLeftOut(ILoggerFactory? loggers)
{
    private int _told;

    /// <summary>For <c>ConfigureAdditionalHttpMessageHandlers</c>: the service provider's own instance clears the list.</summary>
    public static void Clear(IList<DelegatingHandler> handlers, IServiceProvider services) =>
        services.GetRequiredService<AppHandlersLeftOut>().Clear(handlers);

    /// <summary>Empties <paramref name="handlers"/> (the client's handlers so far), telling the log the first time it holds any.</summary>
    public void Clear(IList<DelegatingHandler> handlers)
    {
        if (handlers.Count == 0) return;
        if (Interlocked.Exchange(ref _told, 1) == 0)
            loggers?.CreateLogger(typeof(AppHandlersLeftOut).FullName!).LogInformation(
                "O8Actors' token requests go without the app's HTTP handlers {Handlers} (from ConfigureHttpClientDefaults, or added " +
                "to the '{Client}' client before AddOAuthLogins): a retrying one would send a code or refresh token twice. " +
                "Add a handler meant for these requests with AddHttpClient(\"{Client}\") after AddOAuthLogins.",
                string.Join(", ", handlers.Select(h => h.GetType().Name)), O8Bootstrap.HttpClientName, O8Bootstrap.HttpClientName);
        handlers.Clear();
    }
}
