using System.Collections.Concurrent;
using Akka.Configuration;
using Microsoft.Extensions.Logging;
using O8Actors.Providers;
using O8Actors.Tests.Certificates;
using O8Actors.Tests.EndToEnd;
using O8Actors.TestSupport;

namespace O8Actors.Tests.Security;

/// <summary>
/// Device logins that succeed, are refused, fail and are cancelled, with every log source at its most verbose: no device
/// code (nor token) may reach a log line, an exception message or an event's text.
/// </summary>
public sealed class NoDeviceCodeInLogsTests(MkcertFolderFixture certificates) : IClassFixture<MkcertFolderFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task No_device_code_reaches_a_log_line_an_exception_message_or_an_event()
    {
        var systemName = "o8-device-logs-" + Guid.NewGuid().ToString("N")[..8];
        var lines = CapturedLogs.For(systemName);
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new CapturedLogs.Provider(lines)));
        var strategy = new MarkedDeviceStrategy();
        await using var logins = await OAuthLogins.StartAsync(setup =>
        {
            setup.SystemName = systemName;
            setup.Hocon = ConfigurationFactory.ParseString(CapturedLogs.AkkaConfig);
            setup.LoggerFactory = loggerFactory;
            setup.Options.Listener.Port = 0;
            setup.Options.Certificates = certificates.Options;
            setup.Browser = new HttpClientBrowser();
            setup.Providers.Add(strategy);
        });
        var events = new ConcurrentQueue<LoginEvent>();
        using var subscription = logins.Events.Subscribe(new Collect(events));

        var messages = new List<string>();
        var approved = await logins.RunAsync("device", Device("approve")).WaitAsync(Wait);
        Assert.IsType<LoginSucceeded>(approved);
        messages.Add(approved.ToString());
        var denied = await Assert.ThrowsAsync<AuthorizationDeniedException>(() => logins.AuthorizeAsync("device", Device("deny")).WaitAsync(Wait));
        messages.Add(denied.ToString());
        // A strategy whose own exception quotes the device code: its message must not be copied into the reason.
        var failed = await Assert.ThrowsAsync<TokenExchangeException>(() => logins.AuthorizeAsync("device", Device("throw")).WaitAsync(Wait));
        messages.Add(failed.Message);
        using (var cancel = new CancellationTokenSource())
        {
            var hanging = logins.RunAsync("device", Device("hang"), cancel.Token);
            await Eventually.TrueAsync(() => strategy.Polls >= 4, "the hanging login has polled four times", Wait);
            await cancel.CancelAsync();
            messages.Add((await hanging.WaitAsync(Wait)).ToString());
        }

        // Every login's last line (approved, denied, failed, cancelled) has arrived before the scan below reads the lines.
        await Eventually.TrueAsync(() => CapturedLogs.LoginsEnded(lines) >= 4, "all four logins have logged their end");
        Assert.Contains(lines, l => l.Contains("ended: Succeeded", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ended: Cancelled", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("device grant", StringComparison.Ordinal)); // the choice is logged
        Assert.Equal(4, strategy.DeviceCodes.Count);
        Assert.Contains(events, e => e is DeviceCodeIssuedEvent);
        var texts = lines.Concat(messages).Concat(events.Select(e => e.ToString())).ToList();
        foreach (var text in texts)
        foreach (var secret in strategy.DeviceCodes.Append(MarkedDeviceStrategy.AccessToken))
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A secret leaked into: {text[..Math.Min(text.Length, 300)]}");
        // The denial's description is kept, cleaned: it could forge no log line.
        Assert.Contains("denied [WARN] forged", denied.Message, StringComparison.Ordinal);
        Assert.All(texts, text => Assert.DoesNotContain(MarkedDeviceStrategy.Forged, text, StringComparison.Ordinal));
    }

    private static AuthorizationRequest Device(string script) =>
        new(ExtraParameters: new Dictionary<string, string> { ["script"] = script }) { Method = LoginMethod.Device };

    private sealed class Collect(ConcurrentQueue<LoginEvent> events) : IObserver<LoginEvent>
    {
        public void OnNext(LoginEvent value) => events.Enqueue(value);
        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }

    /// <summary>A device-only provider whose device codes are recorded, so the test can search for them.</summary>
    private sealed class MarkedDeviceStrategy : ProviderStrategy
    {
        public const string AccessToken = "device-access-token-0123456789";
        public const string Forged = "\n[WARN] forged";
        private readonly ConcurrentDictionary<string, string> _scripts = new(StringComparer.Ordinal);
        private int _polls;

        public ConcurrentQueue<string> DeviceCodes { get; } = new();
        public int Polls => Volatile.Read(ref _polls);
        public override string Name => "device";

        public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => throw new NotSupportedException("device only");

        public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
            throw new NotSupportedException("device only");

        public override Task<DeviceAuthorization> RequestDeviceAuthorizationAsync(DeviceAuthorizationContext context, HttpClient http, CancellationToken cancellationToken)
        {
            var code = "devcode-" + Guid.NewGuid().ToString("N");
            DeviceCodes.Enqueue(code);
            _scripts[code] = context.ExtraParameters["script"];
            return Task.FromResult(new DeviceAuthorization(code, "WDJB-MJHT", new Uri("https://idp.test/device"),
                new Uri($"https://idp.test/device?user_code=WDJB-MJHT"), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1)));
        }

        public override Task<DeviceTokenPoll> PollDeviceTokenAsync(DeviceTokenContext context, HttpClient http, CancellationToken cancellationToken)
        {
            var poll = Interlocked.Increment(ref _polls);
            return _scripts[context.DeviceCode] switch
            {
                "approve" => Task.FromResult(DeviceTokenPoll.Issued(new TokenSet(AccessToken, "Bearer"))),
                // The provider's text, as a custom strategy passes it on: it echoes the device code and forges a line.
                "deny" => Task.FromResult(new DeviceTokenPoll(DevicePollStatus.Denied, Error: "access_denied",
                    ErrorDescription: $"device code {context.DeviceCode} denied{Forged}")),
                "throw" => throw new InvalidOperationException($"the provider rejected device code {context.DeviceCode} (poll {poll})"),
                _ => Task.FromResult(new DeviceTokenPoll(DevicePollStatus.Pending, Error: "authorization_pending")),
            };
        }
    }
}
