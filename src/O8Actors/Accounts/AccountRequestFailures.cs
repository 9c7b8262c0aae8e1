using Akka.Actor;

namespace O8Actors.Accounts;

/// <summary>
/// The answer each account request's sender waits for when the account's actor stopped before it took the request (left
/// in its mailbox when it failed and was stopped, or forwarded to it before its supervisor heard of the stop): the same
/// failure the actor's <c>PostStop</c> gives the requests it held, so a caller hears one kind of answer either way.
/// </summary>
internal static class AccountRequestFailures
{
    /// <summary>The account a request is for, or null when <paramref name="message"/> is no account request with an answer.</summary>
    public static OAuthAccount? AccountOf(object message) => message switch
    {
        GetAccessToken g => g.Account,
        RememberLogin r => r.Account,
        SignOut s => s.Account,
        _ => null,
    };

    /// <summary>Why an account's request was not answered: its actor stopped first.</summary>
    public static AuthorizationFailedException Stopped(OAuthAccount account) =>
        new(LoginFailure.Internal, $"The actor of {account} stopped before it could answer.");

    /// <summary>
    /// Answers <paramref name="request"/>, for <paramref name="account"/>, to <paramref name="replyTo"/> as
    /// <see cref="Stopped"/>; a server-mode sign-out's waiter for its end-session URL learns there is none.
    /// </summary>
    public static void AnswerStopped(object request, OAuthAccount account, IActorRef replyTo, IActorRef sender) =>
        Answer(request, Stopped(account), replyTo, sender);

    /// <summary>
    /// Answers <paramref name="request"/>, which will not be done, with <paramref name="cause"/>; a server-mode sign-out's
    /// waiter for its end-session URL learns there is none (it would wait for good: nothing else completes it).
    /// </summary>
    public static void Answer(object request, Exception cause, IActorRef replyTo, IActorRef sender)
    {
        (request as SignOut)?.EndSessionUrlTo?.TrySetResult(null);
        replyTo.Tell(new Status.Failure(cause), sender);
    }
}
