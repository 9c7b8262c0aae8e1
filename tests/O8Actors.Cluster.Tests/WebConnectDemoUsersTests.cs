using Microsoft.Extensions.Configuration;
using O8Actors.Examples.WebConnect;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// WebConnect's demo sign-in: configuration keys ignore case, so every spelling of a name found its password, and each
/// spelling signed in as a user of its own, with its own rate limit on <c>/connect</c> and its own share of the pending
/// logins (one person multiplied the per-user limits by the spellings of a name). The name signed in is the list's now.
/// </summary>
public sealed class WebConnectDemoUsersTests
{
    private static readonly DemoUsers Users = new(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["Demo:Users:alice"] = "alice-demo" })
        .Build());

    [Theory]
    [InlineData("alice")]
    [InlineData("ALICE")]
    [InlineData("aLiCe")]
    public void Every_spelling_of_a_name_signs_in_as_the_name_the_list_spells(string typed)
    {
        Assert.Equal("alice", Users.SignIn(typed, "alice-demo"));
    }

    [Theory]
    [InlineData("alice", "wrong")]
    [InlineData("alice", "")]
    [InlineData("bob", "alice-demo")]
    public void A_wrong_password_or_an_unknown_name_signs_nobody_in(string user, string password)
    {
        Assert.Null(Users.SignIn(user, password));
    }
}
