using System.Text.Json;
using Akka.TestKit.Xunit2;
using O8Actors.Accounts;
using O8Actors.Providers;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// One GetUserInfoAsync against a probe standing in for the provider registry: nothing is sent for an account without
/// an ID token's subject; a 401 is followed by one more try with a renewed token (and only one); the answer's sub is
/// checked; an unknown provider gets the same exception as everywhere else.
/// </summary>
public sealed class UserInfoCallTests : TestKit
{
    private static readonly OAuthAccount Account = new("oidc", "user-1");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private static AccessToken Token(string value, string? subject = "user-1") =>
        new(Account, value, "Bearer", DateTimeOffset.UtcNow.AddHours(1), "openid") { IdTokenSubject = subject };

    private static JsonElement Answer(string sub) => JsonDocument.Parse($$"""{"sub":"{{sub}}","name":"Ada"}""").RootElement.Clone();

    /// <summary>The account's tokens: the current one, and what a forced refresh gives; records what was asked.</summary>
    private sealed class Tokens(AccessToken current, AccessToken? refreshed = null)
    {
        public List<AccessTokenOptions?> Asked { get; } = [];

        public Task<AccessToken> GetAsync(OAuthAccount account, AccessTokenOptions? options, CancellationToken ct)
        {
            Asked.Add(options);
            return Task.FromResult(options is { ForceRefresh: true } ? refreshed ?? current : current);
        }
    }

    private Task<UserInfo> Run(Tokens tokens, Akka.TestKit.TestProbe providers, RefusedTokens? refused = null) =>
        UserInfoCall.RunAsync(tokens.GetAsync, providers.Ref, Wait, Account, refused ?? new RefusedTokens(), CancellationToken.None);

    private static void Refuse(Akka.TestKit.TestProbe providers, FetchUserInfo fetch) =>
        providers.Reply(new UserInfoFetchFailed(fetch.RequestId, new UserInfoException(UserInfoFailure.Unauthorized, "refused")));

    [Fact]
    public async Task The_answer_for_the_accounts_token_becomes_its_claims()
    {
        var providers = CreateTestProbe();
        var call = Run(new Tokens(Token("at-1")), providers);

        var fetch = providers.ExpectMsg<FetchUserInfo>();
        Assert.Equal("oidc", fetch.Provider);
        Assert.Equal("at-1", fetch.Context.AccessToken);
        Assert.DoesNotContain("at-1", fetch.ToString());
        providers.Reply(new UserInfoFetched(fetch.RequestId, Answer("user-1")));

        var info = await call.WaitAsync(Wait);
        Assert.Equal("Ada", info.Name);
    }

    [Fact]
    public async Task An_account_without_an_ID_token_subject_sends_nothing()
    {
        var providers = CreateTestProbe();

        var error = await Assert.ThrowsAsync<UserInfoException>(() => Run(new Tokens(Token("at-1", subject: null)), providers));

        Assert.Equal(UserInfoFailure.NotSupported, error.Failure);
        Assert.Contains("AccessTokenHandler", error.Message);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_refused_token_is_renewed_and_the_request_sent_once_more()
    {
        var providers = CreateTestProbe();
        var tokens = new Tokens(Token("at-1"), refreshed: Token("at-2"));
        var call = Run(tokens, providers);

        var first = providers.ExpectMsg<FetchUserInfo>();
        providers.Reply(new UserInfoFetchFailed(first.RequestId, new UserInfoException(UserInfoFailure.Unauthorized, "refused", "invalid_token")));
        var second = providers.ExpectMsg<FetchUserInfo>();
        Assert.Equal("at-2", second.Context.AccessToken);
        providers.Reply(new UserInfoFetched(second.RequestId, Answer("user-1")));

        Assert.Equal("user-1", (await call.WaitAsync(Wait)).Subject);
        Assert.Equal([null, null, new AccessTokenOptions(ForceRefresh: true)], tokens.Asked);
    }

    [Fact]
    public async Task A_token_refused_again_after_renewal_is_not_tried_a_third_time()
    {
        var providers = CreateTestProbe();
        var call = Run(new Tokens(Token("at-1"), refreshed: Token("at-2")), providers);

        for (var i = 0; i < 2; i++)
        {
            var fetch = providers.ExpectMsg<FetchUserInfo>();
            providers.Reply(new UserInfoFetchFailed(fetch.RequestId, new UserInfoException(UserInfoFailure.Unauthorized, "refused")));
        }

        var error = await Assert.ThrowsAsync<UserInfoException>(() => call.WaitAsync(Wait));
        Assert.Equal(UserInfoFailure.Unauthorized, error.Failure);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// A renewed token the endpoint refused too: its refusals are not about its age, and every later call used to force
    /// a refresh of its own (with rotation, a new refresh token per call).
    /// </summary>
    [Fact]
    public async Task A_later_call_with_a_renewed_token_the_endpoint_refused_forces_no_refresh()
    {
        var providers = CreateTestProbe();
        var refused = new RefusedTokens();
        var first = Run(new Tokens(Token("at-1"), refreshed: Token("at-2")), providers, refused);
        Refuse(providers, providers.ExpectMsg<FetchUserInfo>());
        Refuse(providers, providers.ExpectMsg<FetchUserInfo>());
        await Assert.ThrowsAsync<UserInfoException>(() => first.WaitAsync(Wait));

        var tokens = new Tokens(Token("at-2"), refreshed: Token("at-3"));
        var later = Run(tokens, providers, refused);
        var fetch = providers.ExpectMsg<FetchUserInfo>();
        Assert.Equal("at-2", fetch.Context.AccessToken);
        Refuse(providers, fetch);

        var error = await Assert.ThrowsAsync<UserInfoException>(() => later.WaitAsync(Wait));
        Assert.Equal(UserInfoFailure.Unauthorized, error.Failure);
        Assert.DoesNotContain(new AccessTokenOptions(ForceRefresh: true), tokens.Asked);
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_provider_that_renews_to_the_same_token_is_not_asked_again()
    {
        var providers = CreateTestProbe();
        var call = Run(new Tokens(Token("at-1"), refreshed: Token("at-1")), providers);

        var fetch = providers.ExpectMsg<FetchUserInfo>();
        providers.Reply(new UserInfoFetchFailed(fetch.RequestId, new UserInfoException(UserInfoFailure.Unauthorized, "refused")));

        await Assert.ThrowsAsync<UserInfoException>(() => call.WaitAsync(Wait));
        providers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_token_a_provider_renewed_to_itself_is_not_refreshed_again_on_the_next_call()
    {
        // One forced refresh found the same token: the endpoint refuses it for another reason than its age, so a later
        // call's refusal must not spend (and rotate) the refresh token again.
        var providers = CreateTestProbe();
        var refused = new RefusedTokens();
        var tokens = new Tokens(Token("at-1"), refreshed: Token("at-1"));
        for (var call = 0; call < 3; call++)
        {
            var running = Run(tokens, providers, refused);
            var fetch = providers.ExpectMsg<FetchUserInfo>();
            providers.Reply(new UserInfoFetchFailed(fetch.RequestId, new UserInfoException(UserInfoFailure.Unauthorized, "refused")));
            await Assert.ThrowsAsync<UserInfoException>(() => running.WaitAsync(Wait));
        }

        Assert.Single(tokens.Asked, options => options is { ForceRefresh: true });
    }

    [Fact]
    public async Task An_answer_about_another_user_is_refused()
    {
        var providers = CreateTestProbe();
        var call = Run(new Tokens(Token("at-1")), providers);

        var fetch = providers.ExpectMsg<FetchUserInfo>();
        providers.Reply(new UserInfoFetched(fetch.RequestId, Answer("mallory")));

        var error = await Assert.ThrowsAsync<UserInfoException>(() => call.WaitAsync(Wait));
        Assert.Equal(UserInfoFailure.SubjectMismatch, error.Failure);
    }

    [Fact]
    public async Task No_endpoint_and_an_unknown_provider_say_so()
    {
        var providers = CreateTestProbe();
        var none = Run(new Tokens(Token("at-1")), providers);
        var fetch = providers.ExpectMsg<FetchUserInfo>();
        providers.Reply(new UserInfoFetched(fetch.RequestId, null));
        Assert.Equal(UserInfoFailure.NotSupported, (await Assert.ThrowsAsync<UserInfoException>(() => none.WaitAsync(Wait))).Failure);

        var unknown = Run(new Tokens(Token("at-1")), providers);
        fetch = providers.ExpectMsg<FetchUserInfo>();
        providers.Reply(new ProviderUnavailable(fetch.RequestId, "no such provider", LoginFailure.UnknownProvider));
        await Assert.ThrowsAsync<UnknownProviderException>(() => unknown.WaitAsync(Wait));
    }
}
