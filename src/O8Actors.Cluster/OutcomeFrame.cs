using Akka.Actor;
using Akka.Event;

namespace O8Actors.Cluster;

/// <summary>
/// Whether a login's outcome fits the Akka.Remote frame on its way to the node that began the login. Akka.Remote drops a
/// message larger than its frame (it logs "Discarding oversized payload"), and the caller, its outcome lost, would wait
/// until the entity stopped and then get a misleading <see cref="LoginFailure.NodeLost"/>.
/// </summary>
/// <remarks>
/// Serializing every outcome to measure it would double the work of each one that crosses; instead a bound from its
/// strings' lengths (<see cref="WireOutcome.SizeBound"/>, one cheap pass) clears every outcome that is clearly within
/// the frame, and only one whose bound comes near it is serialized to know for sure.
/// </remarks>
internal static class OutcomeFrame
{
    /// <summary>The setting that limits one remoting message (the package sets it to 16 MiB, <c>o8-cluster.conf</c>).</summary>
    public const string FrameSizeKey = "akka.remote.dot-netty.tcp.maximum-frame-size";

    // The remoting envelope around the message (recipient and sender paths, manifest, serializer id).
    private const long EnvelopeBytes = 4096;

    // What the bound leaves out: type and property names, dates and numbers outside the claims (a few KB at most).
    private const long StructureBytes = 16 * 1024;

    /// <summary>
    /// What to send <paramref name="replyTo"/>: <paramref name="ended"/>, or when it cannot cross to that node, a failure
    /// saying so (<see cref="TooLarge"/>), with one Warning (sizes only) on <paramref name="log"/>.
    /// </summary>
    /// <param name="system">The actor system whose serializer measures an outcome near the frame.</param>
    /// <param name="frame">This node's frame (<see cref="FrameSize"/>, read once per node); null when none is configured.</param>
    /// <param name="replyTo">The gateway the outcome goes to.</param>
    /// <param name="ended">The outcome's message.</param>
    /// <param name="log">Where the one Warning goes.</param>
    public static LoginEnded Fit(ActorSystem system, long? frame, IActorRef replyTo, LoginEnded ended, ILoggingAdapter log)
    {
        if (Check(system, frame, replyTo, ended) is not { } oversize) return ended;
        log.Warning("Login {0}: its outcome ({1} bytes serialized) exceeds the remoting frame ({2} bytes, {3}); the node that began it gets Failed({4}) instead",
            ended.LoginId, oversize.Size, oversize.Frame, FrameSizeKey, LoginFailure.TokenExchange);
        return new LoginEnded(ended.LoginId, WireOutcome.From(TooLarge(ended.LoginId, oversize)));
    }

    /// <summary>The serialized size of <paramref name="ended"/> and the frame, when it is too large to reach <paramref name="replyTo"/>.</summary>
    /// <returns>Null when <paramref name="replyTo"/> is on this node (nothing is serialized), no frame is configured, or it fits.</returns>
    private static Oversize? Check(ActorSystem system, long? frame, IActorRef replyTo, LoginEnded ended)
    {
        if (replyTo is IActorRefScope { IsLocal: true }) return null;
        if (frame is not { } limit) return null;
        if (SizeBound(ended) + EnvelopeBytes <= limit) return null;
        long size = system.Serialization.FindSerializerFor(ended).ToBinary(ended).Length;
        return size + EnvelopeBytes <= limit ? null : new Oversize(size, limit);
    }

    /// <summary>The remoting frame of <paramref name="system"/> in bytes (<see cref="FrameSizeKey"/>); null when none is configured.</summary>
    public static long? FrameSize(ActorSystem system) => system.Settings.Config.GetByteSize(FrameSizeKey, null);

    /// <summary>An upper bound on <paramref name="ended"/>'s serialized size, from its strings' lengths.</summary>
    public static long SizeBound(LoginEnded ended) => WireSize.Of(ended.LoginId) + ended.Outcome.SizeBound() + StructureBytes;

    /// <summary>What the caller gets instead of an outcome that cannot cross: sizes and the setting to raise, no token.</summary>
    public static LoginFailed TooLarge(string loginId, Oversize oversize) => new(loginId, LoginFailure.TokenExchange,
        $"The provider issued tokens, but the login's outcome ({oversize.Size} bytes serialized) is larger than the remoting frame "
        + $"({oversize.Frame} bytes, {FrameSizeKey}) and cannot be carried from the node that ran the login to the node that began it. "
        + "Raise the frame size on every node.");
}

/// <summary>An outcome too large for the remoting frame: its serialized size and the frame, in bytes.</summary>
internal readonly record struct Oversize(long Size, long Frame);
