using System.Diagnostics;

namespace O8Actors.Flows;

/// <summary>
/// Starts one login. The outcome (<see cref="LoginOutcome"/>) is delivered exactly once: to <paramref name="Completion"/>
/// when one is given (how <see cref="IOAuthLogins"/> waits, without an Ask's temporary actor and timeout per login),
/// otherwise to the sender.
/// </summary>
/// <param name="LoginId">A public id for the login (logs, events, cancellation).</param>
/// <param name="Provider">The registered provider's name.</param>
/// <param name="Request">Scopes, timeout and extra parameters.</param>
/// <param name="Completion">Completed with the outcome (never faulted); the supervisor completes it as
/// <see cref="LoginCancelled"/> if it stops first. Create it with <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>.</param>
internal sealed record StartFlow(string LoginId, string Provider, AuthorizationRequest Request, TaskCompletionSource<LoginOutcome>? Completion = null)
{
    /// <summary>
    /// The parent of the login's <c>o8.login</c> span: by default the caller's <see cref="Activity.Current"/> when this
    /// message is created (on the caller's thread; the actors run elsewhere and cannot see it).
    /// </summary>
    public ActivityContext Parent { get; init; } = Activity.Current?.Context ?? default;

    /// <summary>Server mode: what the login keeps of its browser's secret; <c>null</c> for a login not bound to a browser (loopback).</summary>
    public O8Actors.Binding.BrowserBindingHash? Binding { get; init; }
}

/// <summary>Cancels one login; it ends as <see cref="LoginCancelled"/> unless it already ended.</summary>
internal sealed record CancelFlow(string LoginId)
{
    /// <summary>
    /// Tokens its code or device poll still brings (spent at the provider as it was cancelled) are dropped, not revoked:
    /// the account that started it holds a newer sign-in of the same user and client, and a provider whose revocation
    /// ends the whole grant (Google's) would end that sign-in with them. Otherwise they are revoked (RFC 7009).
    /// </summary>
    public bool DropLateTokens { get; init; }
}

/// <summary>Cancels every login in flight (shutdown); each ends as <see cref="LoginCancelled"/>.</summary>
internal sealed record CancelAllFlows
{
    /// <summary>The single instance.</summary>
    public static CancelAllFlows Instance { get; } = new();
}

/// <summary>Asks the supervisor how many logins are in flight; answered with <see cref="FlowsInFlight"/>.</summary>
internal sealed record GetFlowsInFlight
{
    /// <summary>The single instance.</summary>
    public static GetFlowsInFlight Instance { get; } = new();
}

/// <summary>The number of logins in flight.</summary>
internal sealed record FlowsInFlight(int Count);

/// <summary>
/// The listener crashed and was stopped (sent by the guardian to the supervisor, and by the supervisor to each login and
/// sign-out step): every login in flight ends as Failed (ListenerUnavailable), and every sign-out waiting for the browser
/// as Failed, since no callback or return can reach them any more.
/// </summary>
internal sealed record ListenerLost(string Reason);
