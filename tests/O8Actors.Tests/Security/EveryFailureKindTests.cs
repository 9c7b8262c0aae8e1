using O8Actors.Callback;
using O8Actors.Diagnostics;
using O8Actors.Flows;

namespace O8Actors.Tests.Security;

/// <summary>
/// Every <see cref="LoginFailure"/> is a typed exception for the caller, a <c>reason</c> tag on the metrics and a page
/// for the browser. A new failure kind fails these tests until it has all three.
/// </summary>
public sealed class EveryFailureKindTests
{
    private static readonly Dictionary<LoginFailure, Type> Exceptions = new()
    {
        [LoginFailure.TokenExchange] = typeof(TokenExchangeException),
        [LoginFailure.ExchangeTimeout] = typeof(TokenExchangeException),
        [LoginFailure.IssuerMismatch] = typeof(IssuerMismatchException),
        [LoginFailure.RedirectMismatch] = typeof(RedirectMismatchException),
        [LoginFailure.BrowserMismatch] = typeof(BrowserMismatchException),
        [LoginFailure.InvalidCallback] = typeof(AuthorizationFailedException),
        [LoginFailure.ProviderUnavailable] = typeof(AuthorizationFailedException),
        [LoginFailure.ListenerUnavailable] = typeof(AuthorizationFailedException),
        [LoginFailure.UnknownProvider] = typeof(UnknownProviderException),
        [LoginFailure.Internal] = typeof(AuthorizationFailedException),
        [LoginFailure.IdTokenInvalid] = typeof(IdTokenValidationException),
        [LoginFailure.UnsafeAuthorizeUrl] = typeof(AuthorizationFailedException),
        [LoginFailure.TooManyPendingLogins] = typeof(TooManyPendingLoginsException),
        [LoginFailure.TooManyPendingLoginsInPartition] = typeof(TooManyPendingLoginsException),
        [LoginFailure.ExchangeQueueFull] = typeof(ProviderBusyException),
        [LoginFailure.NodeLost] = typeof(AuthorizationFailedException),
    };

    private static readonly Dictionary<LoginFailure, int> PageStatus = new()
    {
        [LoginFailure.TokenExchange] = 502,
        [LoginFailure.ExchangeTimeout] = 504,
        [LoginFailure.IssuerMismatch] = 400,
        [LoginFailure.RedirectMismatch] = 400,
        [LoginFailure.BrowserMismatch] = 400,
        [LoginFailure.InvalidCallback] = 400,
        [LoginFailure.ProviderUnavailable] = 502,
        [LoginFailure.ListenerUnavailable] = 502,
        [LoginFailure.UnknownProvider] = 502,
        [LoginFailure.Internal] = 500,
        [LoginFailure.IdTokenInvalid] = 502,
        [LoginFailure.UnsafeAuthorizeUrl] = 502,
        [LoginFailure.TooManyPendingLogins] = 429,
        [LoginFailure.TooManyPendingLoginsInPartition] = 429,
        [LoginFailure.ExchangeQueueFull] = 503,
        [LoginFailure.NodeLost] = 502,
    };

    public static TheoryData<LoginFailure> AllFailures() => new(Enum.GetValues<LoginFailure>());

    [Theory]
    [MemberData(nameof(AllFailures))]
    public void Each_failure_has_its_typed_exception_carrying_the_login_id(LoginFailure failure)
    {
        Assert.True(Exceptions.TryGetValue(failure, out var expected), $"{failure} has no exception type in this table: give it one.");

        var exception = LoginFailureExceptions.For(new LoginFailed("login-7", failure, "why it failed"), "prov", 10, 2);

        Assert.IsType(expected, exception);
        Assert.Equal("login-7", exception.LoginId);
        if (exception is AuthorizationFailedException general) Assert.Equal(failure, general.Failure);
    }

    [Theory]
    [MemberData(nameof(AllFailures))]
    public void Each_failure_has_a_page_with_its_status_and_reason(LoginFailure failure)
    {
        Assert.True(PageStatus.TryGetValue(failure, out var expected), $"{failure} has no page status in this table: give it one.");

        var page = FlowActor.PageFor(new LoginFailed("login-7", failure, "why it failed"));

        Assert.Equal(expected, page.StatusCode);
        Assert.Equal(CallbackPageKind.Failed, page.Kind);
        // The reason, except where a fixed page says more to the user than the reason would (the other-browser page), or
        // where the reason quotes what the request chose (a RedirectMismatch quotes the path it arrived at, an
        // IssuerMismatch the iss it carried).
        if (failure == LoginFailure.BrowserMismatch) Assert.Contains("another browser", page.Detail);
        else if (failure == LoginFailure.RedirectMismatch) Assert.Contains("not the provider's callback address", page.Detail);
        else if (failure == LoginFailure.IssuerMismatch) Assert.Contains("came back from another server", page.Detail);
        else Assert.Equal("why it failed", page.Detail);
    }

    [Fact]
    public void Each_failure_has_its_own_snake_case_metric_reason()
    {
        var tags = Enum.GetValues<LoginFailure>().Select(O8Metrics.ReasonTag).ToList();

        Assert.Equal(tags.Count, tags.Distinct().Count());
        Assert.All(tags, t => Assert.Matches("^[a-z]+(_[a-z]+)*$", t));
        Assert.Equal("redirect_mismatch", O8Metrics.ReasonTag(LoginFailure.RedirectMismatch));
        Assert.Equal("too_many_pending_logins_in_partition", O8Metrics.ReasonTag(LoginFailure.TooManyPendingLoginsInPartition));
    }
}
