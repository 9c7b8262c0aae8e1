using System.Text;
using FsCheck;
using FsCheck.Fluent;
using O8Actors.SoakTests.Support;

namespace O8Actors.SoakTests.Hostile;

/// <summary>One parameter of a random callback query: a name, where its value comes from, and how it is spelled.</summary>
/// <param name="Name">The parameter name (OAuth names, near misses and junk).</param>
/// <param name="Source">0: a random string, escaped; 1: a random string of URL-safe characters, raw; 2: a live login's state, altered.</param>
/// <param name="Raw">The random string.</param>
/// <param name="Pick">Which live login, and which alteration.</param>
public sealed record QueryPart(string Name, int Source, string Raw, int Pick);

/// <summary>A random callback query: parameters joined by <see cref="Separator"/>.</summary>
public sealed record RandomQuery(QueryPart[] Parts, string Separator)
{
    /// <summary>The query string (without <c>?</c>). No part ever decodes to a live login's exact state.</summary>
    internal string Render(IReadOnlyList<PendingLogin> live)
    {
        var pairs = Parts.Select(p => p.Name + "=" + Value(p, live));
        return string.Join(Separator, pairs);
    }

    private static string Value(QueryPart part, IReadOnlyList<PendingLogin> live) => part.Source switch
    {
        0 => Uri.EscapeDataString(part.Raw),
        1 => new string(part.Raw.Where(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.' or '~' or '%').ToArray()),
        _ => Alter(live[Math.Abs(part.Pick) % live.Count].State, Math.Abs(part.Pick / 7)),
    };

    /// <summary>A near miss of a real state: every alteration changes the decoded value.</summary>
    private static string Alter(string state, int how) => (how % 5) switch
    {
        0 => state[..^1],
        1 => state + "A",
        2 => state[1..],
        3 => FlipCase(state),
        _ => Uri.EscapeDataString(state[..^1]) + "%2",
    };

    private static string FlipCase(string state)
    {
        var builder = new StringBuilder(state);
        var at = Array.FindIndex(state.ToCharArray(), char.IsLetter);
        builder[at] = char.IsUpper(state[at]) ? char.ToLowerInvariant(state[at]) : char.ToUpperInvariant(state[at]);
        return builder.ToString();
    }

    public override string ToString() => $"{Parts.Length} parts joined by '{Separator}': {string.Join(Separator, Parts.Select(p => $"{p.Name}<{p.Source}>"))}";
}

/// <summary>FsCheck generators for <see cref="RandomQuery"/>.</summary>
public static class RandomQueries
{
    private static readonly string[] Names =
        ["state", "code", "error", "error_description", "iss", "session_state", "State", "st%61te", "", "code[]", "state ", "%00", "&"];

    public static Arbitrary<RandomQuery> Queries()
    {
        var raw = ArbMap.Default.GeneratorFor<string>().Select(s => s ?? "");
        var part =
            from name in Gen.Elements(Names)
            from source in Gen.Choose(0, 2)
            from value in raw
            from pick in Gen.Choose(0, 1000)
            select new QueryPart(name, source, value, pick);
        var query =
            from parts in Gen.Choose(0, 8).SelectMany(n => part.ArrayOf(n))
            from separator in Gen.Elements("&", "&", "&", ";", "&&")
            select new RandomQuery(parts, separator);
        return Arb.From(query);
    }
}
