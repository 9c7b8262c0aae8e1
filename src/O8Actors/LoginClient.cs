using Akka.Actor;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;

namespace O8Actors;

/// <summary>
/// The <see cref="IOAuthLogins"/> facade over the three top-level actors; shared by the standalone
/// <see cref="OAuthLogins"/> and the Akka.Hosting integration.
/// </summary>
internal sealed class LoginClient(ActorSystem system, O8Actors.Runtime.O8ActorRefs actors, O8Options options) : IOAuthLogins
{
    private static readonly TimeSpan ControlTimeout = TimeSpan.FromSeconds(30);

    // A status is for health probes, which must not hang: both actors answer from memory at once unless overloaded.
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(5);

    public IObservable<LoginEvent> Events { get; } = new LoginEventStream(system);

    public async Task<TokenSet> AuthorizeAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default)
    {
        var outcome = await RunAsync(provider, request, cancellationToken).ConfigureAwait(false);
        return outcome switch
        {
            LoginSucceeded s => s.Tokens,
            LoginDenied d => throw new AuthorizationDeniedException(d.Error, d.ErrorDescription) { LoginId = d.LoginId },
            LoginTimedOut t => throw new AuthorizationTimeoutException(t.Timeout) { LoginId = t.LoginId },
            LoginCancelled c => throw new OperationCanceledException(
                cancellationToken.IsCancellationRequested ? "The login was cancelled." : "The login was cancelled because O8Actors is shutting down.",
                cancellationToken),
            LoginFailed { Failure: LoginFailure.TokenExchange or LoginFailure.ExchangeTimeout } f =>
                throw new TokenExchangeException(f.Reason, f.ProviderError) { LoginId = f.LoginId },
            LoginFailed { Failure: LoginFailure.IssuerMismatch } f => throw new IssuerMismatchException(f.Reason) { LoginId = f.LoginId },
            LoginFailed { Failure: LoginFailure.IdTokenInvalid } f => throw new IdTokenValidationException(f.Reason) { LoginId = f.LoginId },
            LoginFailed f => throw new AuthorizationFailedException(f.Failure, f.Reason) { LoginId = f.LoginId },
            _ => throw new InvalidOperationException($"Unexpected outcome {outcome.GetType().Name}."),
        };
    }

    public Task<LoginOutcome> RunAsync(string provider, AuthorizationRequest? request = null, CancellationToken cancellationToken = default) =>
        RunAsync(FlowSecrets.RandomToken(9), provider, request, cancellationToken);

    /// <summary>Runs one login under a caller-chosen <paramref name="flowId"/> (server mode waits for that id's URL event).</summary>
    internal Task<LoginOutcome> RunAsync(string flowId, string provider, AuthorizationRequest? request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<LoginOutcome>(cancellationToken);
        request ??= AuthorizationRequest.Default;
        if (request.Timeout is { } t && t <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(request), "The login timeout must be positive.");

        // The supervisor completes this exactly once: with the outcome, as Cancelled when it stops first, and (through
        // the dead-letter watcher) as Cancelled when the message finds it already stopped. The login always ends by
        // itself (deadline, exchange deadline), so no per-login timeout is needed as a backstop.
        var completion = new TaskCompletionSource<LoginOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        actors.Flows.Tell(new StartFlow(flowId, provider, request, completion));
        return cancellationToken.CanBeCanceled ? CancelOnRequestAsync(completion.Task, flowId, cancellationToken) : completion.Task;
    }

    private async Task<LoginOutcome> CancelOnRequestAsync(Task<LoginOutcome> outcome, string flowId, CancellationToken cancellationToken)
    {
        await using var registration = cancellationToken.Register(
            static state => { var (flows, id) = ((IActorRef, string))state!; flows.Tell(new CancelFlow(id)); },
            (actors.Flows, flowId)).ConfigureAwait(false);
        return await outcome.ConfigureAwait(false);
    }

    public async Task<TokenSet> RefreshAsync(string provider, string refreshToken, IReadOnlyList<string>? scopes = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        ArgumentException.ThrowIfNullOrEmpty(refreshToken);
        var reply = await actors.Providers.Ask<object>(
            new RefreshTokens(provider, FlowSecrets.RandomToken(9), refreshToken, scopes),
            ExchangeTimeouts.RefreshWait(options.Login.ExchangeTimeout), cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            CodeExchanged ok => ok.Tokens,
            CodeExchangeFailed { Failure: LoginFailure.ProviderUnavailable } f => throw new UnknownProviderException(provider),
            CodeExchangeFailed f => throw new TokenExchangeException(f.Reason, f.ProviderError, f.Cause),
            _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}."),
        };
    }

    public async Task RegisterProviderAsync(ProviderStrategy strategy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        await actors.Providers.Ask<ProviderRegistered>(new RegisterProvider(strategy), ControlTimeout, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Uri> GetRedirectUriAsync(CancellationToken cancellationToken = default)
    {
        var status = await actors.Listener.Ask<ListenerStatus>(GetListenerStatus.Instance, ControlTimeout, cancellationToken).ConfigureAwait(false);
        if (status.Failure is not null) throw status.Failure;
        return status.RedirectUri ?? throw new ListenerStartException("The redirect listener is not bound.");
    }

    public async Task<O8Status> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var listener = actors.Listener.Ask<ListenerStatus>(GetListenerStatus.Instance, StatusTimeout, cancellationToken);
        var logins = actors.Flows.Ask<FlowsInFlight>(GetFlowsInFlight.Instance, StatusTimeout, cancellationToken);
        await Task.WhenAll(listener, logins).ConfigureAwait(false);
        var status = await listener.ConfigureAwait(false);
        return new O8Status(status.Bound, status.RedirectUri, (await logins.ConfigureAwait(false)).Count, status.RegisteredStates, status.Failure);
    }

    /// <summary>Stops the redirect listener and waits (bounded) until its port is free.</summary>
    public async Task StopListenerAsync(TimeSpan timeout)
    {
        try
        {
            await actors.Listener.Ask<ListenerStopped>(StopListener.Instance, timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            // The listener disposes Kestrel in PostStop as well; terminating the actor system gets there.
        }
    }

    /// <summary>Ends every login in flight as Cancelled and waits (bounded) until they have.</summary>
    public async Task CancelAllAsync(TimeSpan timeout)
    {
        try
        {
            await actors.Flows.Ask<FlowsInFlight>(CancelAllFlows.Instance, timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            // Best effort on shutdown: whatever did not end in time is stopped with the actor system.
        }
    }
}
