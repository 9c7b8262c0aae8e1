using Akka.Configuration;
using Microsoft.Extensions.Logging;
using O8Actors.Providers;
using O8Actors.Tests.Certificates;
using O8Actors.Tests.EndToEnd;
using O8Actors.TestSupport;

namespace O8Actors.Tests.Security;

/// <summary>
/// Runs successful, refused and replayed logins with every log source at its most verbose, then searches every captured
/// line and every exception message for the secrets that passed through: codes, verifiers, tokens and the client secret.
/// </summary>
public sealed class NoSecretsInLogsTests(MkcertFolderFixture certificates) : IClassFixture<MkcertFolderFixture>
{
    /// <summary>Every line at every level, from Akka's logging and from the logger factory, of one new actor system.</summary>
    private static (string SystemName, System.Collections.Concurrent.ConcurrentQueue<string> Lines, ILoggerFactory Factory) CaptureEveryLine()
    {
        var systemName = "o8-logs-" + Guid.NewGuid().ToString("N")[..8];
        var lines = CapturedLogs.For(systemName);
        return (systemName, lines, LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new CapturedLogs.Provider(lines))));
    }

    private Task<OAuthLogins> StartAsync(string systemName, ILoggerFactory loggerFactory, ProviderStrategy provider) =>
        OAuthLogins.StartAsync(setup =>
        {
            setup.SystemName = systemName;
            setup.Hocon = ConfigurationFactory.ParseString(CapturedLogs.AkkaConfig);
            setup.LoggerFactory = loggerFactory;
            setup.Options.Listener.Port = 0;
            setup.Options.Certificates = certificates.Options;
            setup.Browser = new HttpClientBrowser();
            setup.Providers.Add(provider);
        });

    [Fact]
    public async Task No_token_code_secret_or_verifier_reaches_a_log_line_or_an_exception_message()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        var (systemName, lines, loggerFactory) = CaptureEveryLine();
        using var _ = loggerFactory;
        await using var flows = await StartAsync(systemName, loggerFactory, server.Strategy("e2e"));

        var messages = new List<string>();
        var tokens = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => flows.AuthorizeAsync("e2e")));
        Assert.All(tokens, t => Assert.StartsWith("at-", t.AccessToken));
        messages.AddRange(tokens.Select(t => t.ToString()));

        server.RefuseAllCodes = true;
        var refused = await Assert.ThrowsAsync<TokenExchangeException>(() => flows.AuthorizeAsync("e2e"));
        Assert.Equal("invalid_grant", refused.ProviderError);
        messages.Add(refused.ToString());

        // Replay a landing: the listener answers 400 and logs the rejection.
        using (var tab = new HttpClient())
        {
            var replay = await tab.GetAsync(new Uri(await flows.GetRedirectUriAsync(), "?code=replayed-code-value&state=unknown-state-value"));
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, replay.StatusCode);
        }

        // The one line each of the six logins writes when it ends is there (the level check that guards it must not drop
        // it) before the scan below reads the lines.
        await Eventually.TrueAsync(() => CapturedLogs.LoginsEnded(lines) >= 6, "all six logins have logged their end");
        Assert.Contains(lines, l => l.Contains("ended: Succeeded", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ended: Failed", StringComparison.Ordinal));
        var secrets = server.SecretsSeen.Append("replayed-code-value").Where(s => s.Length >= 8).ToList();
        Assert.True(secrets.Count >= 5 * 4, $"expected codes, verifiers and tokens to be recorded, got {secrets.Count}");
        foreach (var text in lines.Concat(messages))
        foreach (var secret in secrets)
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A secret leaked into: {text[..Math.Min(text.Length, 300)]}");
    }

    [Fact]
    public async Task No_nonce_or_id_token_reaches_a_log_line_or_an_exception_message()
    {
        await using var server = await PkceAuthorizationServer.StartAsync();
        server.OpenIdConnect = true;
        var (systemName, lines, loggerFactory) = CaptureEveryLine();
        using var _ = loggerFactory;
        await using var flows = await StartAsync(systemName, loggerFactory, server.Strategy("oidc"));

        var messages = new List<string>();
        var tokens = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => flows.AuthorizeAsync("oidc")));
        Assert.All(tokens, t => Assert.Equal("user-42", t.IdTokenClaims?.Subject));
        messages.AddRange(tokens.Select(t => t.ToString()));
        messages.AddRange(tokens.Select(t => t.IdTokenClaims!.ToString()));

        server.ForgeNonce = true;
        var forged = await Assert.ThrowsAsync<IdTokenValidationException>(() => flows.AuthorizeAsync("oidc"));
        Assert.Contains("(nonce)", forged.Message, StringComparison.Ordinal);
        messages.Add(forged.ToString());

        // All four logins' last lines, the forged nonce's too, have arrived before the scan below reads the lines.
        await Eventually.TrueAsync(() => CapturedLogs.LoginsEnded(lines) >= 4, "all four logins have logged their end");
        Assert.Contains(lines, l => l.Contains("ended: Failed", StringComparison.Ordinal) && l.Contains("(nonce)", StringComparison.Ordinal));
        var secrets = server.SecretsSeen.Where(s => s.Length >= 8).ToList();
        // Four nonces, four ID tokens (and their parts), codes, verifiers and tokens.
        Assert.True(secrets.Count >= 4 * 6, $"expected nonces and ID tokens to be recorded, got {secrets.Count}");
        foreach (var text in lines.Concat(messages))
        foreach (var secret in secrets)
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A secret leaked into: {text[..Math.Min(text.Length, 300)]}");
    }
}
