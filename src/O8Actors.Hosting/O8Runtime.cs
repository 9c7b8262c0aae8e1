using Akka.Actor;
using O8Actors.Configuration;
using O8Actors.Runtime;

namespace O8Actors.Hosting;

/// <summary>
/// What <c>WithOAuthLogins</c> started, handed to DI: the actor system's O8Actors instance. DI singletons that are
/// resolved before the actor system has started (hosted services, controllers) wait for it here.
/// </summary>
internal sealed class O8Runtime
{
    private readonly TaskCompletionSource<Started> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _began = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long a caller waits for the start to begin before it is told that nothing starts O8Actors.</summary>
    private static readonly TimeSpan NotStartedWait = TimeSpan.FromSeconds(60);

    /// <summary>The clock of <see cref="NotStartedWait"/> (tests replace it).</summary>
    internal TimeProvider Time { get; init; } = TimeProvider.System;

    internal sealed record Started(ActorSystem System, O8ActorRefs Actors, O8Options Options, LoginClient Client, AuthorizeUrlWaiter Urls)
    {
        /// <summary>Where server-mode begins and callbacks go when a routing package (O8Actors.Cluster) is on; null: this node's own actors.</summary>
        public Task<IActorRef?> Route { get; init; } = Task.FromResult<IActorRef?>(null);
    }

    // What Set was given, published once the task holds it: the callers that must not wait read it here, never the task's
    // result on their own thread.
    private Started? _value;

    public Task<Started> WhenStarted => _started.Task;

    /// <summary>
    /// What keeps this node from taking requests although O8Actors runs here, or null when nothing does: set by a routing
    /// package (O8Actors.Cluster: the node is not an up member of its cluster yet, so what reaches it waits for sharding
    /// and times out). Read by the health check.
    /// </summary>
    public Func<string?>? NotReady { get; set; }

    /// <summary>What <see cref="Set"/> was given, for the callers that must not wait; false until then, and after a failed start.</summary>
    public bool TryGet(out Started started)
    {
        started = Volatile.Read(ref _value)!;
        return started is not null;
    }

    /// <summary>The start has begun: from now on callers wait for its outcome, which its own timeouts bound.</summary>
    public void Begin() => _began.TrySetResult();

    public void Set(Started started)
    {
        // The task first: a start that already failed stays failed, and TryGet never hands out what WhenStarted will not.
        if (!_started.TrySetResult(started))
            throw new InvalidOperationException("WithOAuthLogins was called twice for one service provider; call it once.");
        Volatile.Write(ref _value, started);
        Begin();
    }

    /// <summary>Start failed (listener could not bind, bad provider): every waiting and later caller gets the reason.</summary>
    public void Fail(Exception reason)
    {
        _started.TrySetException(reason);
        Begin();
    }

    public async Task<Started> GetAsync(CancellationToken cancellationToken)
    {
        // The actor system starts with the host; a caller this early waits (bounded) instead of failing. Only a start
        // that never begins gets the advice below: a begun one may rightly take longer (the certificate lock, each
        // provider's registration), and its caller waits for its outcome, its error included.
        if (!_began.Task.IsCompleted)
        {
            try
            {
                await _began.Task.WaitAsync(NotStartedWait, Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Two causes look alike from here: no WithOAuthLogins at all, or a start that never comes because the host
                // is held before the actor system's own hosted service runs (the app's hosted service waiting for
                // O8Actors in its StartAsync: hosted services start one after another).
                throw new InvalidOperationException(
                    $"O8Actors has not started within {NotStartedWait.TotalSeconds:0} seconds. Either it is not set up (add services.AddAkka(\"name\", " +
                    "b => b.WithOAuthLogins()) next to services.AddOAuthLogins(), and start the host), or the host's start is held before " +
                    "it: a hosted service that waits for O8Actors in its StartAsync (or StartingAsync) holds the services after it, the actor " +
                    "system's among them; wait in ExecuteAsync, or after IHostApplicationLifetime.ApplicationStarted, instead.");
            }
        }

        return await _started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
