using O8Actors.Tests.Flows;
using Xunit.Abstractions;

namespace O8Actors.Tests.Lifecycle;

/// <summary>
/// An account whose provider name or key is null (read back so from an app's own store, or an OAuthFlow whose account
/// key came out null): its actor cannot be named. Before, the message was dropped inside the accounts' supervisor and the
/// caller waited out its whole wait (about 80 s for a silent renewal), then was told the renewal did not finish.
/// </summary>
public sealed class IncompleteAccountTests(ITestOutputHelper output)
{
    // Far below any wait for an answer, with room for a loaded machine.
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(5);

    public static TheoryData<string?, string?> Incomplete => new() { { LoginsTestSupport.Provider, null }, { null, "alice" } };

    [Theory]
    [MemberData(nameof(Incomplete))]
    public async Task Every_account_call_refuses_an_account_without_a_provider_name_or_key_at_once(string? provider, string? key)
    {
        await using var logins = await LoginsTestSupport.StartAsync(new RecordingBrowser(), output: output);
        var account = new OAuthAccount(provider!, key!);

        Func<Task>[] calls =
        [
            () => logins.GetAccessTokenAsync(account),
            () => logins.GetAccessTokenAsync(account, options: AccessTokenOptions.Interactive),
            () => logins.GetUserInfoAsync(account),
            () => logins.SignOutAsync(account),
        ];
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => call().WaitAsync(AtOnce));
            Assert.Equal("account", error.ParamName);
            Assert.Contains(provider is null ? "no provider name" : "no key", error.Message, StringComparison.Ordinal);
        }
    }
}
