using O8Actors.Providers;

namespace O8Actors.TestSupport;

/// <summary>
/// A provider whose refresh waits at the "token endpoint" until the test answers it: what a shutdown finds when a
/// refresh is under way. One copy, linked into each test project that needs it.
/// </summary>
public sealed class HeldRefreshStrategy : ProviderStrategy
{
    /// <summary>The provider's name.</summary>
    public const string ProviderName = "held";

    /// <summary>Completed when a refresh reaches the provider.</summary>
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The refresh's answer, which the test gives.</summary>
    public TaskCompletionSource<TokenSet> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    public override string Name => ProviderName;

    /// <inheritdoc />
    public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) => new("https://held.test/authorize");

    /// <inheritdoc />
    public override Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken) =>
        throw new NotSupportedException();

    /// <inheritdoc />
    public override Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken)
    {
        Entered.TrySetResult();
        return Answer.Task;
    }
}
