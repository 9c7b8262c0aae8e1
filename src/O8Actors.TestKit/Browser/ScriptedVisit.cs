namespace O8Actors.TestKit.Browser;

/// <summary>How a scripted visit ended.</summary>
public enum ScriptedVisitOutcome
{
    /// <summary>The authorize server redirected and the browser loaded the callback page.</summary>
    Landed,

    /// <summary>The script said <see cref="BrowserAction.Abandon"/>: the callback was never visited.</summary>
    Abandoned,

    /// <summary>The authorize server answered without a redirect (an error page, a consent page).</summary>
    NoRedirect,

    /// <summary>An HTTP or TLS error; see <see cref="ScriptedVisitResult.Error"/>.</summary>
    Failed,

    /// <summary>The login was cancelled or the browser disposed before the visit finished.</summary>
    Cancelled,
}

/// <summary>
/// What happened on one scripted visit. <see cref="ToString"/> omits <see cref="CallbackUrl"/>, which carries the code.
/// </summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="AuthorizeStatus">Status of the authorize response, if one arrived.</param>
/// <param name="CallbackUrl">The redirect target (contains the authorization code or the error); <c>null</c> when there was none.</param>
/// <param name="LandingStatus">Status of the callback page, if the browser landed.</param>
/// <param name="LandingBody">Body of the callback page (or of the authorize page when it did not redirect).</param>
/// <param name="Error">The exception that ended the visit, if any.</param>
public sealed record ScriptedVisitResult(
    ScriptedVisitOutcome Outcome,
    int? AuthorizeStatus,
    Uri? CallbackUrl,
    int? LandingStatus,
    string? LandingBody,
    Exception? Error)
{
    /// <summary>A callback query parameter (<c>code</c>, <c>state</c>, <c>error</c>, <c>iss</c>...), or <c>null</c>.</summary>
    public string? CallbackParameter(string name)
    {
        if (CallbackUrl is null)
        {
            return null;
        }

        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(CallbackUrl.Query);
        return query.TryGetValue(name, out var values) ? values.ToString() : null;
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"ScriptedVisitResult {{ Outcome = {Outcome}, AuthorizeStatus = {AuthorizeStatus}, LandingStatus = {LandingStatus}, Error = {Error?.GetType().Name} }}";
}

/// <summary>One login the <see cref="ScriptedBrowser"/> was asked to open.</summary>
public sealed class ScriptedVisit
{
    private readonly TaskCompletionSource<ScriptedVisitResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile ScriptedVisitResult? _result;

    internal ScriptedVisit(int index, Uri authorizeUrl, BrowserAction action)
    {
        Index = index;
        AuthorizeUrl = authorizeUrl;
        Action = action;
    }

    /// <summary>Order of launch, from 0.</summary>
    public int Index { get; }

    /// <summary>The authorize URL the login asked to open.</summary>
    public Uri AuthorizeUrl { get; }

    /// <summary>What the script decided.</summary>
    public BrowserAction Action { get; }

    /// <summary>Completes (never faults) when the visit ends; for <see cref="BrowserAction.Abandon"/> once the authorize page was read.</summary>
    public Task<ScriptedVisitResult> Completion => _completion.Task;

    /// <summary>The result, or <c>null</c> while the visit is running.</summary>
    public ScriptedVisitResult? Result => _result;

    internal void Complete(ScriptedVisitResult result)
    {
        _result = result;
        _completion.TrySetResult(result);
    }

    /// <inheritdoc />
    public override string ToString() => $"ScriptedVisit #{Index} {Action} {Result?.Outcome.ToString() ?? "running"}";
}
