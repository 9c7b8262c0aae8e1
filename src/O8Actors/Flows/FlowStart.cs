using Akka.Actor;
using O8Actors.Browser;
using O8Actors.Configuration;

namespace O8Actors.Flows;

/// <summary>What every login of one supervisor shares: settings and the actors and browser it works with.</summary>
/// <param name="Options">Flow defaults (timeout, exchange timeout, PKCE).</param>
/// <param name="Listener">The <see cref="O8Actors.Callback.CallbackServerActor"/>.</param>
/// <param name="Providers">The <see cref="O8Actors.Providers.ProviderRegistryActor"/> (or one provider actor).</param>
/// <param name="Browser">Opens authorize URLs.</param>
/// <param name="OutcomeTo">Receives each login's one <see cref="LoginOutcome"/>.</param>
/// <param name="BindingVerifier">Checks a bound login's browser secret (server mode); <c>null</c> where nothing binds logins.</param>
/// <param name="RedirectUri">The listener's redirect URI once known (it never changes while the listener lives): a login
/// then registers its state without waiting for the listener's answer. Null: each login waits for it.</param>
/// <param name="ServerMode">Whether the listener is the web app's (<c>o8.listener.external-redirect-uri</c>): the user's
/// browser is then the app's to redirect, never one this process opens.</param>
internal sealed record FlowContext(LoginOptions Options, IActorRef Listener, IActorRef Providers, IBrowserLauncher Browser, IActorRef OutcomeTo,
    O8Actors.Binding.BrowserBindingVerifier? BindingVerifier = null, Uri? RedirectUri = null, bool ServerMode = false);

/// <summary>One login's start: the shared context and what is its own.</summary>
internal sealed record FlowStart(FlowContext Context, string LoginId, string Provider, AuthorizationRequest Request,
    System.Diagnostics.ActivityContext Parent = default, O8Actors.Binding.BrowserBindingHash? Binding = null)
{
    /// <summary>Cluster server mode: the routing id the state starts with (<see cref="FlowSecrets.Create(string?)"/>); null elsewhere.</summary>
    public string? StatePrefix { get; init; }

    /// <summary>Cluster server mode: also receives the login's <see cref="AuthorizeUrlReadyEvent"/> (its node's event stream is not the caller's).</summary>
    public IActorRef? AuthorizeUrlTo { get; init; }

    /// <summary>
    /// Cluster server mode: a login stopped from outside before it ended leaves the page of a waiting browser to its parent
    /// (the login's entity knows why it stops: its node left, or its shard moved), instead of answering the 500 of
    /// <see cref="O8Actors.Callback.CallbackPages.LoginGone"/> itself.
    /// </summary>
    public bool ParentAnswersWhenStopped { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"FlowStart {{ LoginId = {LoginId}, Provider = {Provider} }}";
}
