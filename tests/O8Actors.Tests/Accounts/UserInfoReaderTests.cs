using System.Security.Claims;
using System.Text.Json;
using O8Actors.Accounts;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// A UserInfo answer is used only when its <c>sub</c> is the account's ID token's (OpenID Connect Core 1.0 section
/// 5.3.4); its claims come out with their JSON types.
/// </summary>
public sealed class UserInfoReaderTests
{
    private static readonly OAuthAccount Account = new("google", "user-123");

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public void An_answer_about_the_accounts_user_gives_its_claims()
    {
        var info = UserInfoReader.Read(Account, "user-123", Json("""
            {"sub":"user-123","email":"ada@example.test","email_verified":true,"name":"Ada","updated_at":1700000000,
             "score":1.5,"groups":["a","b"],"address":{"country":"UK"},"nickname":null}
            """));

        Assert.Equal(Account, info.Account);
        Assert.Equal("user-123", info.Subject);
        Assert.Equal("ada@example.test", info.Email);
        Assert.Equal("Ada", info.Name);
        Assert.Equal(("true", ClaimValueTypes.Boolean), Single(info, "email_verified"));
        Assert.Equal(("1700000000", ClaimValueTypes.Integer64), Single(info, "updated_at"));
        Assert.Equal(("1.5", ClaimValueTypes.Double), Single(info, "score"));
        Assert.Equal(["a", "b"], info.All.Where(c => c.Type == "groups").Select(c => c.Value));
        Assert.Equal(("""{"country":"UK"}""", "JSON"), Single(info, "address"));
        Assert.DoesNotContain(info.All, c => c.Type == "nickname");
        Assert.Equal("UK", info.Json.GetProperty("address").GetProperty("country").GetString());
        Assert.Equal("Ada", info.ToPrincipal().Identity!.Name);
    }

    [Theory]
    [InlineData("""{"sub":"bob","email":"bob@example.test","sub":"user-123"}""")]
    [InlineData("""{"sub":"user-123","email":"ada@example.test","email":"bob@example.test"}""")]
    public void An_answer_that_names_a_claim_twice_is_refused(string answer)
    {
        // The subject check reads the last "sub"; the claims list would get every one, the other user's first.
        var error = Assert.Throws<UserInfoException>(() => UserInfoReader.Read(Account, "user-123", Json(answer)));

        Assert.Equal(UserInfoFailure.InvalidResponse, error.Failure);
        Assert.Contains("more than once", error.Message);
        Assert.DoesNotContain("bob", error.Message);
    }

    private static (string Value, string Type) Single(UserInfo info, string type)
    {
        var claim = Assert.Single(info.All, c => c.Type == type);
        return (claim.Value, claim.ValueType);
    }

    [Fact]
    public void An_answer_about_another_user_is_refused_without_quoting_it()
    {
        var error = Assert.Throws<UserInfoException>(() =>
            UserInfoReader.Read(Account, "user-123", Json("""{"sub":"mallory-999","email":"mallory@example.test"}""")));

        Assert.Equal(UserInfoFailure.SubjectMismatch, error.Failure);
        Assert.Contains("google", error.Message);
        Assert.Contains("5.3.4", error.Message);
        Assert.DoesNotContain("mallory", error.Message);
    }

    [Theory]
    [InlineData("""{"email":"ada@example.test"}""")]
    [InlineData("""{"sub":""}""")]
    [InlineData("""{"sub":123}""")]
    [InlineData("""{"sub":null}""")]
    public void An_answer_without_a_string_sub_is_refused(string json)
    {
        var error = Assert.Throws<UserInfoException>(() => UserInfoReader.Read(Account, "user-123", Json(json)));

        Assert.Equal(UserInfoFailure.InvalidResponse, error.Failure);
        Assert.Contains("'sub'", error.Message);
    }

    [Fact]
    public void The_subject_is_compared_exactly()
    {
        var error = Assert.Throws<UserInfoException>(() => UserInfoReader.Read(Account, "user-123", Json("""{"sub":"USER-123"}""")));

        Assert.Equal(UserInfoFailure.SubjectMismatch, error.Failure);
    }

    [Fact]
    public void ToString_prints_no_personal_data()
    {
        var info = UserInfoReader.Read(Account, "user-123", Json("""{"sub":"user-123","email":"ada@example.test","name":"Ada Lovelace"}"""));

        Assert.DoesNotContain("ada@example.test", info.ToString());
        Assert.DoesNotContain("Lovelace", info.ToString());
        Assert.Contains("Claims = 3", info.ToString());
    }
}
