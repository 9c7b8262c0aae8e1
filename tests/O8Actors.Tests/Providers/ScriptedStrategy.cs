using System.Collections.Concurrent;
using System.Diagnostics;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A provider strategy the test drives: each token request waits until the test releases its code, discovery fails
/// as often as told, and every call is recorded.
/// </summary>
internal sealed class ScriptedStrategy(string name, string tokenPrefix = "token") : ProviderStrategy
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
    private int _resolveFailures;

    public override string Name => name;

    /// <summary>The provider's own redirect path, or null for the default.</summary>
    public string? OwnRedirectPath { get; init; }

    /// <summary>The issuer known before discovery, or null.</summary>
    public string? Issuer { get; init; }

    public override string? RedirectPath => OwnRedirectPath;

    public override string? KnownIssuer => Issuer;

    /// <summary>Codes whose exchange has started, in order.</summary>
    public ConcurrentQueue<string> Started { get; } = new();

    /// <summary>How many times discovery ran.</summary>
    public int Resolves;

    /// <summary>The <see cref="Activity.Current"/> each token request ran under.</summary>
    public ConcurrentQueue<Activity?> Activities { get; } = new();

    /// <summary>Token requests hold until <see cref="Release"/> when true; otherwise they answer at once.</summary>
    public bool Gated { get; init; } = true;

    /// <summary>Discovery answers once this completes (at once when null).</summary>
    public Task? ResolveHold { get; init; }

    /// <summary>The next <paramref name="times"/> discoveries fail.</summary>
    public void FailResolve(int times) => _resolveFailures = times;

    /// <summary>Lets the token request for <paramref name="code"/> answer.</summary>
    public void Release(string code) => Gate(code).TrySetResult();

    /// <summary>Fails the token request for <paramref name="code"/> with <paramref name="error"/>.</summary>
    public void Fail(string code, Exception error) => Gate(code).TrySetException(error);

    public override async Task<ProviderDescriptor> ResolveAsync(HttpClient http, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Resolves);
        if (ResolveHold is { } hold) await hold.WaitAsync(cancellationToken);
        return Interlocked.Decrement(ref _resolveFailures) >= 0
            ? throw new HttpRequestException("discovery is down")
            : new ProviderDescriptor(Issuer: $"https://{name}.test");
    }

    public override Uri BuildAuthorizeUrl(AuthorizeUrlContext context) =>
        new($"https://{name}.test/authorize?state={context.State}&redirect_uri={Uri.EscapeDataString(context.RedirectUri.AbsoluteUri)}");

    public override async Task<TokenSet> ExchangeCodeAsync(CodeExchangeContext context, HttpClient http, CancellationToken cancellationToken)
    {
        Activities.Enqueue(Activity.Current);
        Started.Enqueue(context.Code);
        if (Gated) await Gate(context.Code).Task.WaitAsync(cancellationToken);
        return new TokenSet($"{tokenPrefix}-{context.Code}", "Bearer");
    }

    /// <summary>A device authorization request is recorded as <c>device:</c> and its scopes; the code it issues is fixed.</summary>
    public override Task<DeviceAuthorization> RequestDeviceAuthorizationAsync(DeviceAuthorizationContext context, HttpClient http,
        CancellationToken cancellationToken)
    {
        Started.Enqueue("device:" + string.Join(" ", context.Scopes));
        return Task.FromResult(new DeviceAuthorization("device-code", "BCDF-GHJK", new Uri($"https://{name}.test/device"), null,
            TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5)));
    }

    /// <summary>A refresh is recorded and gated like an exchange, under its refresh token.</summary>
    public override async Task<TokenSet> RefreshAsync(RefreshContext context, HttpClient http, CancellationToken cancellationToken)
    {
        Started.Enqueue(context.RefreshToken);
        if (Gated) await Gate(context.RefreshToken).Task.WaitAsync(cancellationToken);
        return new TokenSet($"{tokenPrefix}-{context.RefreshToken}", "Bearer");
    }

    /// <summary>The tokens revoked through this strategy, in order.</summary>
    public ConcurrentQueue<RevocationContext> Revoked { get; } = new();

    public override Task<bool> RevokeAsync(RevocationContext context, HttpClient http, CancellationToken cancellationToken)
    {
        Revoked.Enqueue(context);
        return Task.FromResult(true);
    }

    private TaskCompletionSource Gate(string code) =>
        _gates.GetOrAdd(code, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
