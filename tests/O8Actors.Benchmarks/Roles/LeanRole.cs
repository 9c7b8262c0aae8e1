using O8Actors.Benchmarks.Independent;

namespace O8Actors.Benchmarks.Roles;

/// <summary>
/// The lean login in this harness, in its own process: the ceiling's bare Kestrel (same certificate, protocols and
/// scheduling) that hands out a real authorize URL per login (its state, a fixed PKCE challenge) to the driver's browser
/// and, on the callback, exchanges the code with one hand-written token request to the driver's sandbox before its page.
/// No library, no actors, no ID-token check and no account: the least a correct login costs here, so an O8Actors row
/// can be read against it as well as against the ceiling that exchanges nothing (<see cref="CeilingSide"/>, shared with
/// the independent setting's lean sides). With <c>--no-exchange</c> it is the login ceiling of the interleaved mode: the
/// browser's whole login (authorize, redirect, callback) against bare Kestrel, the independent setting's ceiling.
/// </summary>
internal static class LeanRole
{
    private static readonly TimeSpan PerLogin = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(Args args)
    {
        var n = args.Int("n", 2000);
        var concurrency = args.Int("concurrency", 16);
        using var certificate = BenchCertificates.Load(args);
        var port = O8Actors.TestSupport.FreePorts.Next();
        // The driver registers the client with this redirect URI, then says where its sandbox is.
        Wire.Send("READY", CeilingSide.RedirectUri(port, certificate));
        var go = (await Wire.ExpectAsync("GO")).Split(' ');
        // --check-id-token: the OpenID Connect variant (a nonce per login, the ID token checked by hand). --no-exchange:
        // the login ceiling (the browser's whole login, the code never redeemed), as the independent setting's ceiling.
        // The server by the issuer's own host, as the O8 rows' discovery names it.
        await using var side = await CeilingSide.StartAsync(port, go[0], certificate, exchange: !args.Has("no-exchange"), publicClientId: go[1],
            checkIdToken: args.Has("check-id-token"), serverHost: null);
        await MeasuredRow.RunAsync(n, concurrency, _ => side.LoginAsync(url => Wire.Send("URL", url), PerLogin), args.Has("blocks"));
        return 0;
    }
}
