namespace O8Actors;

/// <summary>
/// The live <see cref="OAuthFlow"/>s that share a provider name (a <c>CacheName</c>): the later one's registration
/// replaces the earlier's, so when the one whose strategy is registered goes, another live one takes the name over
/// instead of leaving it unregistered under the others (their logins failed with <see cref="UnknownProviderException"/>).
/// Held weakly: a flow nobody disposes is not kept alive here.
/// </summary>
internal static class LiveFlowNames
{
    private static readonly Dictionary<string, List<WeakReference<OAuthFlow>>> Live = new(StringComparer.Ordinal);

    /// <summary>Notes <paramref name="flow"/> as a live holder of <paramref name="name"/>.</summary>
    public static void Add(string name, OAuthFlow flow)
    {
        lock (Live)
        {
            if (!Live.TryGetValue(name, out var flows)) Live[name] = flows = [];
            flows.RemoveAll(f => !f.TryGetTarget(out _));
            flows.Add(new WeakReference<OAuthFlow>(flow));
        }
    }

    /// <summary>The live holders of <paramref name="name"/>.</summary>
    public static IReadOnlyList<OAuthFlow> Holders(string name)
    {
        lock (Live)
        {
            if (!Live.TryGetValue(name, out var flows)) return [];
            var live = new List<OAuthFlow>(flows.Count);
            foreach (var held in flows)
                if (held.TryGetTarget(out var flow)) live.Add(flow);
            return live;
        }
    }

    /// <summary>
    /// Takes <paramref name="flow"/> off <paramref name="name"/> and returns the other live holders, the newest first
    /// (the one that takes the name over, should <paramref name="flow"/>'s registration be the current one).
    /// </summary>
    public static IReadOnlyList<OAuthFlow> Remove(string name, OAuthFlow flow)
    {
        lock (Live)
        {
            if (!Live.TryGetValue(name, out var flows)) return [];
            flows.RemoveAll(f => !f.TryGetTarget(out var held) || ReferenceEquals(held, flow));
            if (flows.Count == 0) Live.Remove(name);
            var others = new List<OAuthFlow>(flows.Count);
            for (var i = flows.Count - 1; i >= 0; i--)
                if (flows[i].TryGetTarget(out var other)) others.Add(other);
            return others;
        }
    }
}
