using Akka.TestKit.Xunit2;
using O8Actors.Providers;

namespace O8Actors.Tests.Providers;

/// <summary>
/// A request for a provider that is not registered is answered at once, with the failure its sender waits for, never
/// forwarded nor dropped (a login would otherwise wait out its exchange deadline).
/// </summary>
public sealed class UnknownProviderAnswerTests : TestKit
{
    public static TheoryData<string> Requests => ["prepare", "exchange", "refresh", "device-code", "device-poll", "revoke"];

    [Theory]
    [MemberData(nameof(Requests))]
    public void Each_request_for_an_unregistered_provider_gets_its_own_failure_naming_the_provider(string kind)
    {
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(_ => new HttpClient(), 4, TimeSpan.FromSeconds(30)));
        var redirect = new Uri("http://127.0.0.1:1/nobody");
        object request = kind switch
        {
            "prepare" => new PrepareAuthorization("nobody", "login-1", "state", null, redirect, [], new Dictionary<string, string>(), null),
            "exchange" => new ExchangeCode("nobody", "login-1", "code", null, redirect),
            "refresh" => new RefreshTokens("nobody", "login-1", "refresh-token", null),
            "device-code" => new RequestDeviceCode("nobody", "login-1", [], new Dictionary<string, string>()),
            "device-poll" => new PollDeviceToken("nobody", "login-1", "device-code"),
            _ => new RevokeTokens("nobody", "login-1", []),
        };

        registry.Tell(request, TestActor);

        var answer = ExpectMsg<object>();
        var (id, reason) = answer switch
        {
            ProviderUnavailable u when kind == "prepare" => (u.LoginId, u.Reason),
            CodeExchangeFailed f when kind is "exchange" or "refresh" or "device-poll" => (f.LoginId, f.Reason),
            DeviceCodeRefused { Failure: var f } when kind == "device-code" => (f.LoginId, f.Reason),
            RevocationDone r when kind == "revoke" => (r.RequestId, r.Reason),
            _ => throw new Xunit.Sdk.XunitException($"{kind} was answered with {answer.GetType().Name}."),
        };
        Assert.Equal("login-1", id);
        Assert.Contains("'nobody'", reason);
        if (answer is ProviderUnavailable unavailable) Assert.Equal(LoginFailure.UnknownProvider, unavailable.Failure);
        if (answer is CodeExchangeFailed failed) Assert.Equal(LoginFailure.UnknownProvider, failed.Failure);
        if (answer is DeviceCodeRefused refused) Assert.Equal(LoginFailure.UnknownProvider, refused.Failure.Failure);
        if (answer is RevocationDone done) Assert.Equal(RevocationOutcome.Failed, done.Outcome);
    }
}
