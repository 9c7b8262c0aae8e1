namespace O8Actors.TestKit.Tests.Support;

/// <summary>Signing a scripted user in through a harness, for tests about what comes after the login.</summary>
internal static class HarnessAccounts
{
    /// <summary>Runs an approving login for <paramref name="user"/>; returns its account and tokens (the login must succeed).</summary>
    public static async Task<(OAuthAccount Account, TokenSet Tokens)> SignInAsync(O8TestHarness o8, string user = "alice")
    {
        var result = await o8.RunAsync(LoginScript.Approve(user)).WaitAsync(TimeSpan.FromSeconds(30));
        var succeeded = Assert.IsType<LoginSucceeded>(result.Outcome);
        return (succeeded.Account!, succeeded.Tokens);
    }
}
