namespace O8Actors.TestKit.Tests.Support;

/// <summary>
/// An HTTP client factory that hands out plain clients and throws when disposed: registered in an orchestrator's
/// services, it makes releasing the harness fail. Linked into O8Actors.TestKit.Xunit.Tests too.
/// </summary>
internal sealed class FailsToDisposeHttpClientFactory : IHttpClientFactory, IDisposable
{
    public const string Message = "This factory fails to dispose.";

    public HttpClient CreateClient(string name) => new();

    public void Dispose() => throw new InvalidOperationException(Message);
}
