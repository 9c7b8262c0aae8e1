using O8Actors.TestKit;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.Examples.ParallelLogins;

/// <summary>Deals each login its fate: exact counts from the shares, in a shuffled but reproducible order.</summary>
public static class LoginMix
{
    /// <summary>The scripts of a run, one per login.</summary>
    public static IReadOnlyList<LoginScript> Deal(DemoSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.SystemBrowser)
        {
            // A human decides on the sandbox's consent page.
            return Enumerable.Repeat(LoginScript.Consent, settings.Logins).ToArray();
        }

        var denials = (int)Math.Round(settings.DenyShare * settings.Logins);
        var abandons = Math.Min((int)Math.Round(settings.AbandonShare * settings.Logins), settings.Logins - denials);
        var faults = Math.Min((int)Math.Round(settings.FaultRate * settings.Logins), settings.Logins - denials - abandons);
        var scripts = new List<LoginScript>(settings.Logins);
        scripts.AddRange(Enumerable.Range(0, denials).Select(_ => LoginScript.Deny()));
        scripts.AddRange(Enumerable.Range(0, abandons).Select(_ => LoginScript.Abandon));
        scripts.AddRange(Enumerable.Range(0, faults).Select(i => LoginScript.TokenEndpointFault(FaultNumber(i))));
        scripts.AddRange(Enumerable.Range(0, settings.Logins - scripts.Count).Select(i => LoginScript.Approve($"user-{i + 1}")));

        var shuffled = scripts.ToArray();
        new Random(settings.Seed).Shuffle(shuffled);
        return shuffled;
    }

    /// <summary>Faults take turns, so a run shows every way a token endpoint breaks.</summary>
    private static TokenFault FaultNumber(int i) => (i % 3) switch
    {
        0 => TokenFault.ServerError(503),
        1 => TokenFault.MalformedJson(),
        _ => TokenFault.DropConnection(),
    };
}
