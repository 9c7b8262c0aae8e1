namespace O8Actors.Callback;

/// <summary>
/// Asks the listener to stop Kestrel and then itself. The reply, <see cref="ListenerStopped"/>, comes once the port is
/// free, so a caller that awaits it (for example on dispose) can rebind the port at once.
/// </summary>
internal sealed record StopListener
{
    /// <summary>The single instance.</summary>
    public static StopListener Instance { get; } = new();
}

/// <summary>
/// Asks for the listener's status once it is bound, binding it first when it binds on first use
/// (<c>o8.listener.start = on-first-use</c>; otherwise as <see cref="GetListenerStatus"/> at start). Answered with a
/// <see cref="ListenerStatus"/>: bound with its redirect URI, or the bind's failure.
/// </summary>
internal sealed record BindListener
{
    /// <summary>The single instance.</summary>
    public static BindListener Instance { get; } = new();
}

/// <summary>The listener's port is released; the actor stops right after sending this.</summary>
internal sealed record ListenerStopped
{
    /// <summary>The single instance.</summary>
    public static ListenerStopped Instance { get; } = new();
}
