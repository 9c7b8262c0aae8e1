using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Binding;
using O8Actors.Callback;
using O8Actors.Configuration;
using O8Actors.Flows;
using O8Actors.Providers;
using O8Actors.Tests.Support;

namespace O8Actors.Tests.Flows;

/// <summary>
/// Server mode: a login bound to its browser (RFC 9700 section 4.7.1) uses its code only when the callback presents
/// that browser's secret; any other callback ends it as BrowserMismatch with a 400 page, and the provider never sees the code.
/// </summary>
public sealed class BrowserBindingTests : TestKit
{
    private static readonly Uri RedirectUri = new("https://app.test/oauth/callback");
    private static readonly Uri AuthorizeUrl = new("https://provider.test/authorize?x=1");
    private static readonly LoginOptions Options = new() { Timeout = TimeSpan.FromSeconds(30), ExchangeTimeout = TimeSpan.FromSeconds(10) };

    private readonly DirectoryInfo _keyRing = Directory.CreateTempSubdirectory("o8-binding-keys-");
    private readonly BrowserBindingVerifier _verifier;
    private readonly TestProbe _listener;
    private readonly TestProbe _providers;
    // The providers as a login sees them: browser-login checks accepted, the rest to _providers.
    private readonly IActorRef _providersFront;
    private readonly TestProbe _outcomes;
    private readonly TestProbe _browserTab;
    private readonly RecordingBrowser _browser = new();

    public BrowserBindingTests()
    {
        _verifier = new BrowserBindingVerifier(KeyRing(_keyRing));
        _listener = CreateTestProbe();
        _providers = CreateTestProbe();
        _providersFront = Sys.ActorOf(ProviderChecksAccepted.Props(_providers.Ref));
        _outcomes = CreateTestProbe();
        _browserTab = CreateTestProbe();
    }

    /// <summary>A Data Protection provider over a key ring in <paramref name="directory"/>, as a node of one app uses.</summary>
    private static IDataProtectionProvider KeyRing(DirectoryInfo directory) =>
        DataProtectionProvider.Create(directory, b => b.SetApplicationName("o8-binding-tests"));

    /// <summary>Drives a bound login to the point where it waits for its browser.</summary>
    private IActorRef StartBoundLogin(string loginId, BrowserBindingHash binding)
    {
        var start = new FlowStart(new FlowContext(Options, _listener.Ref, _providersFront, _browser, _outcomes.Ref, _verifier),
            loginId, "test", AuthorizationRequest.Default, default, binding);
        var flow = Sys.ActorOf(FlowActor.Props(start), loginId);
        Watch(flow);
        _listener.FishForMessage(m => m is RegisterState);
        _listener.Reply(new StateRegistered(loginId, RedirectUri));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared(loginId, AuthorizeUrl, ProviderDescriptor.Static, RedirectUri));
        AwaitCondition(() => _browser.Opened.Contains(AuthorizeUrl), null, Polling.Interval);
        return flow;
    }

    private void SendCallback(IActorRef flow, string loginId, IReadOnlyDictionary<string, string>? secrets) =>
        flow.Tell(new AuthorizationCallback(loginId, "the-code", null, null, null) { BrowserSecrets = secrets }, _browserTab.Ref);

    private void ExpectBrowserMismatch(IActorRef flow)
    {
        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.BrowserMismatch, failed.Failure);
        Assert.DoesNotContain("the-code", failed.Reason, StringComparison.Ordinal);
        var page = _browserTab.ExpectMsg<CallbackResponse>();
        Assert.Equal(400, page.StatusCode);
        Assert.Contains("started in another browser", page.Detail, StringComparison.Ordinal);
        ExpectTerminated(flow);
        // The code never reached the provider: no ExchangeCode, nor anything else, after the authorize URL.
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_bound_login_given_its_browsers_secret_exchanges_the_code()
    {
        var (secret, hash) = _verifier.Create();
        var flow = StartBoundLogin("bound-ok", hash);

        SendCallback(flow, "bound-ok", new Dictionary<string, string> { ["other-login"] = "x", ["bound-ok"] = secret });

        Assert.Equal("the-code", _providers.ExpectMsg<ExchangeCode>().Code);
        _providers.Reply(new CodeExchanged("bound-ok", new TokenSet("access", "Bearer")));
        Assert.Equal(200, _browserTab.ExpectMsg<CallbackResponse>().StatusCode);
        _outcomes.ExpectMsg<LoginSucceeded>();
    }

    [Fact]
    public void A_wrong_secret_ends_as_browser_mismatch_and_the_code_is_never_exchanged()
    {
        var (secret, hash) = _verifier.Create();
        var flow = StartBoundLogin("bound-wrong", hash);

        // Same length and alphabet, one character changed.
        var wrong = (secret[0] == 'A' ? "B" : "A") + secret[1..];
        SendCallback(flow, "bound-wrong", new Dictionary<string, string> { ["bound-wrong"] = wrong });

        ExpectBrowserMismatch(flow);
    }

    [Fact]
    public void A_missing_secret_ends_as_browser_mismatch_and_the_code_is_never_exchanged()
    {
        var (_, hash) = _verifier.Create();
        var flow = StartBoundLogin("bound-missing", hash);

        SendCallback(flow, "bound-missing", null);

        ExpectBrowserMismatch(flow);
    }

    [Fact]
    public void The_secret_of_another_login_ends_as_browser_mismatch_and_the_code_is_never_exchanged()
    {
        // The attacker's browser holds a genuine secret, of the attacker's own login, and presents it under the victim's id.
        var (_, victimHash) = _verifier.Create();
        var (attackerSecret, _) = _verifier.Create();
        var flow = StartBoundLogin("bound-victim", victimHash);

        SendCallback(flow, "bound-victim", new Dictionary<string, string> { ["bound-victim"] = attackerSecret, ["attacker"] = attackerSecret });

        ExpectBrowserMismatch(flow);
    }

    [Fact]
    public void An_unbound_login_is_unchanged_and_exchanges_without_any_secret()
    {
        var start = new FlowStart(new FlowContext(Options, _listener.Ref, _providersFront, _browser, _outcomes.Ref, _verifier),
            "loopback", "test", AuthorizationRequest.Default);
        var flow = Sys.ActorOf(FlowActor.Props(start), "loopback");
        _listener.FishForMessage(m => m is RegisterState);
        _listener.Reply(new StateRegistered("loopback", RedirectUri));
        _providers.ExpectMsg<PrepareAuthorization>();
        _providers.Reply(new AuthorizationPrepared("loopback", AuthorizeUrl, ProviderDescriptor.Static, RedirectUri));
        AwaitCondition(() => _browser.Opened.Contains(AuthorizeUrl), null, Polling.Interval);

        SendCallback(flow, "loopback", null);

        Assert.Equal("the-code", _providers.ExpectMsg<ExchangeCode>().Code);
    }

    /// <summary>
    /// Instances that do not share their Data Protection key ring fail every login begun on another one: that used to read
    /// as a forged callback ("did not match"), with nothing to tell the operator why.
    /// </summary>
    [Fact]
    public void A_login_begun_with_another_key_ring_ends_as_browser_mismatch_saying_the_key_ring_is_not_shared()
    {
        var (secret, hash) = new BrowserBindingVerifier(new EphemeralDataProtectionProvider()).Create();
        var flow = StartBoundLogin("login-ring", hash);

        SendCallback(flow, "login-ring", new Dictionary<string, string> { ["login-ring"] = secret });

        var failed = _outcomes.ExpectMsg<LoginFailed>();
        Assert.Equal(LoginFailure.BrowserMismatch, failed.Failure);
        Assert.Contains("key ring", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, failed.Reason, StringComparison.Ordinal);
        Assert.Equal(400, _browserTab.ExpectMsg<CallbackResponse>().StatusCode);
        ExpectTerminated(flow);
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_binding_verifies_on_another_node_with_the_same_key_ring_and_not_with_another_key_ring()
    {
        var (secret, hash) = _verifier.Create();

        // Another node: its own Data Protection provider over the same (shared, persisted) key ring.
        var sameRing = new BrowserBindingVerifier(KeyRing(_keyRing));
        Assert.True(sameRing.Verify(hash, secret));
        Assert.False(sameRing.Verify(hash, secret + "x"));

        // A node with another key ring cannot open the login's key, so no secret, not even the right one, passes.
        var otherDirectory = Directory.CreateTempSubdirectory("o8-binding-other-");
        try
        {
            var otherRing = new BrowserBindingVerifier(KeyRing(otherDirectory));
            Assert.False(otherRing.Verify(hash, secret));
            Assert.False(new BrowserBindingVerifier(new EphemeralDataProtectionProvider()).Verify(hash, secret));
        }
        finally
        {
            otherDirectory.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_login_keeps_only_a_keyed_hash_and_each_secret_is_fresh()
    {
        var (first, hash) = _verifier.Create();
        var (second, _) = _verifier.Create();

        Assert.Equal(43, first.Length); // 32 bytes, base64url
        Assert.NotEqual(first, second);
        Assert.Equal(32, hash.Mac.Length);
        Assert.DoesNotContain(first, System.Text.Encoding.UTF8.GetString(hash.ProtectedKey), StringComparison.Ordinal);
        Assert.DoesNotContain(first, hash.ToString(), StringComparison.Ordinal);
        Assert.False(_verifier.Verify(hash, null));
        Assert.False(_verifier.Verify(hash, ""));
        Assert.False(_verifier.Verify(hash, new string('A', 10_000)));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _keyRing.Exists) _keyRing.Delete(recursive: true);
    }
}
