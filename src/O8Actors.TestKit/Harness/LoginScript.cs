using O8Actors.TestKit.Browser;
using O8Actors.TestKit.Sandbox;

namespace O8Actors.TestKit;

/// <summary>The fate a test chooses for one login.</summary>
public enum LoginFate
{
    /// <summary>The user approves; the browser lands on the callback; the code is exchanged. Expect <see cref="LoginOutcomeKind.Succeeded"/>.</summary>
    Approve,

    /// <summary>The user refuses (<c>error=access_denied</c> on the callback). Expect <see cref="LoginOutcomeKind.Denied"/>.</summary>
    Deny,

    /// <summary>The browser reads the authorize answer, then the tab is closed: no callback. Expect <see cref="LoginOutcomeKind.TimedOut"/>.</summary>
    Abandon,

    /// <summary>The authorization server never answers the authorize request. Expect <see cref="LoginOutcomeKind.TimedOut"/>.</summary>
    NeverAnswer,

    /// <summary>
    /// The sandbox shows its HTML consent page, for a human with a real browser. A scripted browser cannot press
    /// its buttons, so with one the login times out; with a real browser the human decides.
    /// </summary>
    Consent,

    /// <summary>The user approves, but the token endpoint misbehaves (<see cref="LoginScript.Fault"/>). Expect <see cref="LoginOutcomeKind.Failed"/> (a delay well under the exchange timeout succeeds: see <see cref="LoginScript.Expected(TimeSpan)"/>).</summary>
    TokenFault,
}

/// <summary>
/// One login's script: what the sandbox authorization server, the scripted browser and the token endpoint do with it.
/// Hand it to <see cref="O8TestHarness.RunAsync(LoginScript, TimeSpan?, CancellationToken)"/>; the harness tags the login
/// (through <c>login_hint</c>) so every part plays this script and no other.
/// </summary>
/// <param name="Fate">What happens.</param>
/// <param name="Subject">For approvals: the user id (<c>sub</c>) the sandbox signs in; <c>null</c> uses the login's tag.</param>
/// <param name="Error">For <see cref="LoginFate.Deny"/>: the <c>error</c> code (default <c>access_denied</c>).</param>
/// <param name="ErrorDescription">For <see cref="LoginFate.Deny"/>: the <c>error_description</c>.</param>
/// <param name="Fault">For <see cref="LoginFate.TokenFault"/>: how the token endpoint fails.</param>
public sealed record LoginScript(
    LoginFate Fate,
    string? Subject = null,
    string? Error = null,
    string? ErrorDescription = null,
    TokenFault? Fault = null)
{
    /// <summary>Approve, optionally as <paramref name="subject"/>.</summary>
    public static LoginScript Approve(string? subject = null) => new(LoginFate.Approve, Subject: subject);

    /// <summary>Refuse with <paramref name="error"/> (default <c>access_denied</c>) and an optional description.</summary>
    public static LoginScript Deny(string? description = "The scripted user refused.", string error = "access_denied")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(error);
        return new(LoginFate.Deny, Error: error, ErrorDescription: description);
    }

    /// <summary>Close the tab after the authorize page: the login waits until its timeout.</summary>
    public static LoginScript Abandon { get; } = new(LoginFate.Abandon);

    /// <summary>The authorization server hangs: the login waits until its timeout.</summary>
    public static LoginScript NeverAnswer { get; } = new(LoginFate.NeverAnswer);

    /// <summary>Show the sandbox's consent page (a human with a real browser decides).</summary>
    public static LoginScript Consent { get; } = new(LoginFate.Consent);

    /// <summary>Approve, then fail the code exchange with <paramref name="fault"/> (default a 503 answer).</summary>
    public static LoginScript TokenEndpointFault(TokenFault? fault = null) =>
        new(LoginFate.TokenFault, Fault: fault ?? Sandbox.TokenFault.ServerError(503));

    /// <summary>
    /// The outcome this script leads to with a scripted browser (with a real browser a human decides
    /// <see cref="LoginFate.Consent"/> logins).
    /// </summary>
    /// <param name="exchangeTimeout">
    /// The orchestrator's exchange timeout: a <see cref="TokenFaultKind.Delay"/> shorter than it is predicted to succeed,
    /// any longer one to fail. Script delays well under it (0.8 or less): near it a login may go either way, since a token
    /// request gets at most the exchange timeout less what it waited in its provider's queue, and an OpenID login then
    /// waits for the ID token's key set only until 0.9 of that budget. With DPoP (the harness's <c>UseDpop</c>) the first
    /// token request to the sandbox knows no DPoP nonce yet and is sent twice within its one budget (RFC 9449 section 8),
    /// the delay striking both: script its delays under 0.4 of the exchange timeout.
    /// </param>
    public LoginOutcomeKind Expected(TimeSpan exchangeTimeout) => Expected(exchangeTimeout, LoginMethod.Browser);

    /// <summary>
    /// The outcome this script leads to for a login that ran with <paramref name="method"/>. A device login (RFC 8628)
    /// plays the same script through the sandbox's device user; its token requests are its polls, and a poll that meets a
    /// server error, a dropped connection or no answer in time is sent again (section 3.5) until the login's deadline, so
    /// those faults end it as <see cref="LoginOutcomeKind.TimedOut"/>; a malformed answer fails it.
    /// </summary>
    /// <param name="exchangeTimeout">The orchestrator's exchange timeout (see <see cref="Expected(TimeSpan)"/>).</param>
    /// <param name="method"><see cref="LoginMethod.Browser"/> or <see cref="LoginMethod.Device"/>: how the login ran.</param>
    public LoginOutcomeKind Expected(TimeSpan exchangeTimeout, LoginMethod method)
    {
        if (method is not (LoginMethod.Browser or LoginMethod.Device))
            throw new ArgumentException("A login runs as a browser login or as a device login; Auto chooses one of them.", nameof(method));
        var delayedOnly = Fault is { Kind: TokenFaultKind.Delay } delay && delay.DelayBy < exchangeTimeout;
        return Fate switch
        {
            LoginFate.Approve => LoginOutcomeKind.Succeeded,
            LoginFate.Deny => LoginOutcomeKind.Denied,
            LoginFate.Abandon or LoginFate.NeverAnswer or LoginFate.Consent => LoginOutcomeKind.TimedOut,
            LoginFate.TokenFault when delayedOnly => LoginOutcomeKind.Succeeded,
            LoginFate.TokenFault when method == LoginMethod.Device && Fault!.Kind != TokenFaultKind.MalformedJson => LoginOutcomeKind.TimedOut,
            _ => LoginOutcomeKind.Failed,
        };
    }

    /// <summary>
    /// Whether a browser login can only end by its deadline, so a short timeout keeps a test fast. A device login also
    /// ends by its deadline when <see cref="Expected(TimeSpan, LoginMethod)"/> is <see cref="LoginOutcomeKind.TimedOut"/>
    /// (a token fault it polls through); the harness gives those the short timeout too.
    /// </summary>
    public bool EndsByTimeout => Fate is LoginFate.Abandon or LoginFate.NeverAnswer or LoginFate.Consent;

    internal SandboxDecision Decision(string tag) => Fate switch
    {
        LoginFate.Deny => SandboxDecision.Deny(ErrorDescription, Error ?? "access_denied"),
        LoginFate.NeverAnswer => SandboxDecision.NeverAnswer,
        LoginFate.Consent => SandboxDecision.ConsentPage,
        _ => SandboxDecision.Approve(Subject ?? tag),
    };

    /// <summary>
    /// The same script played by a device login's user (RFC 8628): a refusal is <c>access_denied</c> whatever
    /// <see cref="Error"/> says (the only refusal a device poll can carry), and a login that ends by its timeout never
    /// sees the user answer.
    /// </summary>
    internal SandboxDeviceUser DeviceUser(string tag) => Fate switch
    {
        LoginFate.Deny => SandboxDeviceUser.Deny(),
        LoginFate.Abandon or LoginFate.NeverAnswer or LoginFate.Consent => SandboxDeviceUser.LetExpire,
        _ => SandboxDeviceUser.Approve(Subject ?? tag),
    };

    internal BrowserAction BrowserAction => Fate == LoginFate.Abandon ? BrowserAction.Abandon : BrowserAction.Approve;

    internal TokenFault? TokenFaultToInject => Fate == LoginFate.TokenFault ? Fault : null;

    internal void Validate()
    {
        if (!Enum.IsDefined(Fate))
            throw new ArgumentException($"Unknown login fate {(int)Fate}.", nameof(Fate));
        if (Fate == LoginFate.TokenFault && Fault is null)
            throw new ArgumentException("A TokenFault script needs a Fault (for example TokenFault.ServerError(503)).", nameof(Fault));
    }
}
