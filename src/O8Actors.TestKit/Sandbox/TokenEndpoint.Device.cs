using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// The device-code grant (RFC 8628 section 3.4): a poll sooner than the grant's interval since the previous one (for the
/// first, since the code was issued) gets <c>slow_down</c> (section 3.5); any other poll answers as the grant's
/// scripted user says.
/// </summary>
internal sealed partial class TokenEndpoint
{
    /// <summary>RFC 8628 section 3.4.</summary>
    public const string DeviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code";

    private async Task DeviceCodeAsync(HttpContext context, Dictionary<string, string> form, SandboxClient client, string? proofKey)
    {
        state.Counters.DevicePoll();
        var now = state.Time.GetUtcNow();
        if (!state.DeviceCodes.TryGet(form.Get("device_code"), now, out var grant)
            || !string.Equals(grant.Request.ClientId, client.ClientId, StringComparison.Ordinal))
        {
            await ErrorAsync(context, 400, "invalid_grant", "The device code is unknown or was issued to another client.");
            return;
        }

        if (now >= grant.ExpiresAt)
        {
            await ErrorAsync(context, 400, "expired_token", "The device code has expired.");
            return;
        }

        // Before the script: a hasty poll does not use up one of the user's scripted answers.
        if (grant.PolledTooSoon(now))
        {
            await ErrorAsync(context, 400, "slow_down", $"Polled sooner than the interval: poll every {grant.Interval.TotalSeconds:0} seconds from now on.");
            return;
        }

        var user = grant.User;
        var poll = grant.Poll();
        if (poll <= user.SlowDowns)
        {
            grant.SlowDown();
            await ErrorAsync(context, 400, "slow_down", $"The user is slow: poll every {grant.Interval.TotalSeconds:0} seconds from now on.");
            return;
        }

        if (poll <= user.PendingPolls || user.Kind == SandboxDeviceUserKind.LetExpire)
        {
            await ErrorAsync(context, 400, "authorization_pending", "The user has not answered yet.");
            return;
        }

        switch (user.Kind)
        {
            case SandboxDeviceUserKind.Deny:
                state.Counters.Denied();
                await ErrorAsync(context, 400, "access_denied", "The sandbox user refused the device login.");
                return;
            case SandboxDeviceUserKind.Expire:
                await ErrorAsync(context, 400, "expired_token", "The device code has expired.");
                return;
        }

        if (!grant.TryRedeem())
        {
            await ErrorAsync(context, 400, "invalid_grant", "The device code was already redeemed.");
            return;
        }

        var subject = user.Subject ?? grant.Request.LoginHint ?? "sandbox-user";
        var issuedAt = state.Time.GetUtcNow();
        var family = new TokenFamily(grant.Request, subject, grant.Request.Scope) { BoundKey = proofKey, AuthTime = AuthTime(grant.Request, issuedAt) };
        var tokens = state.Tokens.Issue(family, issuedAt, state.Options.AccessTokenLifetime, state.Options.IssueRefreshTokens);
        await WriteTokensAsync(context, family, tokens, includeNonce: false);
    }
}
