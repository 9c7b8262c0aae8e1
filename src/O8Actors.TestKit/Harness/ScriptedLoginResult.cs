namespace O8Actors.TestKit;

/// <summary>How one scripted login ended.</summary>
/// <param name="Tag">The login's tag (its <c>login_hint</c>), which also names it in the sandbox and the browser.</param>
/// <param name="Script">What the test chose.</param>
/// <param name="Expected">The outcome the script leads to.</param>
/// <param name="Outcome">What the orchestrator delivered.</param>
/// <param name="Elapsed">From start to outcome, as the caller saw it.</param>
public sealed record ScriptedLoginResult(string Tag, LoginScript Script, LoginOutcomeKind Expected, LoginOutcome Outcome, TimeSpan Elapsed)
{
    /// <summary>Whether the login ended exactly as its script chose.</summary>
    public bool MatchesScript => Outcome.Kind == Expected;

    /// <inheritdoc />
    public override string ToString() =>
        $"ScriptedLoginResult {{ Tag = {Tag}, Fate = {Script.Fate}, Expected = {Expected}, Outcome = {Outcome.Kind}, Elapsed = {Elapsed.TotalMilliseconds:F0} ms }}";
}
