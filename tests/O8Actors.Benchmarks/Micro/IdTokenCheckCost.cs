using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using O8Actors.Benchmarks.Independent;
using O8Actors.Providers.IdTokens;

namespace O8Actors.Benchmarks.Micro;

/// <summary>
/// <c>--micro id-token</c>: what one ES256 ID token's check costs on one thread, three ways: O8Actors' validator
/// (Microsoft.IdentityModel, every check OpenID Connect asks for), the lean login's hand-written check (signature, iss,
/// aud, exp, nonce) and the bare P-256 signature verify both must make. The key set is served over loopback http once
/// and cached by both checks, as in a login; the token is the same for every call. Prints a table of rounds.
/// </summary>
internal static class IdTokenCheckCost
{
    private const string ClientId = "client-1";
    private const string Nonce = "nonce-of-the-login";

    public static async Task<int> RunAsync(Args args)
    {
        var calls = args.Int("n", 20_000);
        var rounds = args.Int("repeat", 4);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var port = O8Actors.TestSupport.FreePorts.Next();
        var issuer = $"http://127.0.0.1:{port}";
        await using var server = Roles.BareKestrel.Build(port, null);
        var (discovery, jwks) = Documents(issuer, key);
        server.Run(context => context.Response.WriteAsync(context.Request.Path == "/jwks" ? jwks : discovery));
        await server.StartAsync();

        var (token, signingInput, signature) = SignedToken(issuer, key);
        using var http = new HttpClient();
        var validator = new IdTokenValidator("micro", ClientId, issuer, new Uri(issuer + "/jwks"), TimeSpan.FromMinutes(5), TimeProvider.System);
        using var lean = await LeanIdTokenCheck.LoadAsync(issuer, ClientId);
        using var publicKey = ECDsa.Create(key.ExportParameters(includePrivateParameters: false));

        // Every check through the same awaited delegate, so the three carry the same call overhead (tens of nanoseconds).
        (string Name, Func<Task> Call)[] checks =
        [
            ("O8Actors' validator (Microsoft.IdentityModel)", () => validator.ValidateAsync(token, Nonce, http, CancellationToken.None)),
            ("The lean login's check (by hand)", () => Require(lean.Valid(token, Nonce))),
            ("The P-256 verify alone (ECDsa.VerifyData)", () => Require(publicKey.VerifyData(signingInput, signature, HashAlgorithmName.SHA256))),
        ];
        Console.WriteLine($"One thread, {calls:N0} calls per round after 2,000 unmeasured, {rounds} rounds; {Environment.ProcessorCount} logical CPUs.");
        Console.WriteLine();
        Console.WriteLine("| Check | µs per call, each round | Allocated B per call |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (name, call) in checks)
        {
            var perRound = new List<double>();
            long allocated = 0;
            for (var round = 0; round < rounds; round++)
            {
                (var micros, allocated) = await MeasureAsync(call, calls);
                perRound.Add(micros);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {string.Join(", ", perRound.Select(m => m.ToString("F1", CultureInfo.InvariantCulture)))} | {allocated:N0} |"));
        }
        return 0;
    }

    private static async Task<(double MicrosPerCall, long BytesPerCall)> MeasureAsync(Func<Task> call, int calls)
    {
        for (var i = 0; i < 2000; i++) await call();
        // Process-wide, not this thread's: an await may resume on another thread (nothing else allocates meanwhile).
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls; i++) await call();
        var micros = Stopwatch.GetElapsedTime(started).TotalMicroseconds / calls;
        return (micros, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / calls);
    }

    private static Task Require(bool valid) =>
        valid ? Task.CompletedTask : throw new InvalidOperationException("The check refused a valid token.");

    private static (string Discovery, string Jwks) Documents(string issuer, ECDsa key)
    {
        var point = key.ExportParameters(includePrivateParameters: false).Q;
        var jwk = new JsonObject
        {
            ["kty"] = "EC", ["crv"] = "P-256", ["use"] = "sig", ["alg"] = "ES256", ["kid"] = "key-1",
            ["x"] = Base64Url.EncodeToString(point.X), ["y"] = Base64Url.EncodeToString(point.Y),
        };
        return (new JsonObject { ["issuer"] = issuer, ["jwks_uri"] = issuer + "/jwks" }.ToJsonString(),
            new JsonObject { ["keys"] = new JsonArray(jwk) }.ToJsonString());
    }

    /// <summary>An ID token as the sandbox issues them (the claims a login's token carries), signed with ES256.</summary>
    private static (string Token, byte[] SigningInput, byte[] Signature) SignedToken(string issuer, ECDsa key)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject { ["alg"] = "ES256", ["typ"] = "JWT", ["kid"] = "key-1" };
        var claims = new JsonObject
        {
            ["iss"] = issuer, ["sub"] = "user-1", ["aud"] = ClientId, ["exp"] = now + 3600, ["iat"] = now, ["auth_time"] = now,
            ["nonce"] = Nonce, ["email"] = "user-1@example.test", ["name"] = "User One",
        };
        var input = $"{Encode(header)}.{Encode(claims)}";
        var signingInput = Encoding.ASCII.GetBytes(input);
        var signature = key.SignData(signingInput, HashAlgorithmName.SHA256);
        return ($"{input}.{Base64Url.EncodeToString(signature)}", signingInput, signature);
    }

    private static string Encode(JsonObject json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.ToJsonString()));
}
