namespace O8Actors.TestKit.Sandbox;

/// <summary>What the sandbox does with a valid authorize request.</summary>
public enum SandboxDecisionKind
{
    /// <summary>Redirect with a fresh code (the user approved).</summary>
    Approve,

    /// <summary>Redirect with <c>error</c> (the user refused; <c>access_denied</c> by default).</summary>
    Deny,

    /// <summary>Hold the request open until the server stops or <see cref="SandboxOptions.NeverAnswerLimit"/> passes (the user walked away).</summary>
    NeverAnswer,

    /// <summary>Show an HTML page with Approve and Deny buttons, for a human with a real browser.</summary>
    ConsentPage,
}

/// <summary>The fate of one login, returned by <see cref="SandboxOptions.Decide"/>.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="Error">For <see cref="SandboxDecisionKind.Deny"/>: the <c>error</c> code.</param>
/// <param name="ErrorDescription">For <see cref="SandboxDecisionKind.Deny"/>: an optional <c>error_description</c>.</param>
/// <param name="Subject">For <see cref="SandboxDecisionKind.Approve"/>: the user id (<c>sub</c>); defaults to the login hint or <c>sandbox-user</c>.</param>
public sealed record SandboxDecision(SandboxDecisionKind Kind, string? Error = null, string? ErrorDescription = null, string? Subject = null)
{
    /// <summary>Approve as <paramref name="subject"/>.</summary>
    public static SandboxDecision Approve(string? subject = null) => new(SandboxDecisionKind.Approve, Subject: subject);

    /// <summary>Deny with <paramref name="error"/> (default <c>access_denied</c>) and an optional description.</summary>
    public static SandboxDecision Deny(string? description = null, string error = "access_denied") =>
        new(SandboxDecisionKind.Deny, error, description);

    /// <summary>Never answer (bounded by <see cref="SandboxOptions.NeverAnswerLimit"/>).</summary>
    public static SandboxDecision NeverAnswer { get; } = new(SandboxDecisionKind.NeverAnswer);

    /// <summary>Show the consent page.</summary>
    public static SandboxDecision ConsentPage { get; } = new(SandboxDecisionKind.ConsentPage);
}

/// <summary>Ready-made decision functions.</summary>
public static class SandboxDecisions
{
    /// <summary>
    /// Chooses by <c>login_hint</c>, so one sandbox can serve many logins with different fates:
    /// a hint starting with <c>deny</c> → <see cref="SandboxDecision.Deny"/>, <c>hang</c> → <see cref="SandboxDecision.NeverAnswer"/>,
    /// <c>consent</c> → <see cref="SandboxDecision.ConsentPage"/>; anything else (or no hint) → approve with the hint as subject.
    /// Matching is case-insensitive; for example <c>deny-7</c> or <c>alice</c>.
    /// </summary>
    public static SandboxDecision ByLoginHint(AuthorizeRequestInfo request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var hint = request.LoginHint ?? string.Empty;
        if (hint.StartsWith("deny", StringComparison.OrdinalIgnoreCase))
        {
            return SandboxDecision.Deny("The sandbox user refused (login_hint).");
        }

        if (hint.StartsWith("hang", StringComparison.OrdinalIgnoreCase))
        {
            return SandboxDecision.NeverAnswer;
        }

        if (hint.StartsWith("consent", StringComparison.OrdinalIgnoreCase))
        {
            return SandboxDecision.ConsentPage;
        }

        return SandboxDecision.Approve(hint.Length > 0 ? hint : null);
    }

    /// <summary>Always approve.</summary>
    public static SandboxDecision AlwaysApprove(AuthorizeRequestInfo request) => SandboxDecision.Approve();

    /// <summary>Always show the consent page (a human decides).</summary>
    public static SandboxDecision AlwaysConsentPage(AuthorizeRequestInfo request) => SandboxDecision.ConsentPage;
}
