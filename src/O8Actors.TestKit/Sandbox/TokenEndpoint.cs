using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Buffers.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>POST /token</c>: the <c>authorization_code</c> grant (RFC 6749 §4.1.3, RFC 7636 §4.6) and the <c>refresh_token</c>
/// grant with rotation (RFC 9700 §4.14.2), behind the test's <see cref="TokenFaultPlan"/>.
/// </summary>
internal sealed partial class TokenEndpoint(SandboxState state)
{
    public async Task HandleAsync(HttpContext context)
    {
        state.Counters.TokenRequest();
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await ErrorAsync(context, 405, "invalid_request", "The token endpoint accepts POST only.");
            return;
        }

        if (!SandboxForm.IsUrlEncoded(context.Request))
        {
            await ErrorAsync(context, 400, "invalid_request", "The body must be application/x-www-form-urlencoded.");
            return;
        }

        if (await state.Forms.TryReadAsync(context) is not var (form, duplicate))
        {
            await ErrorAsync(context, 400, "invalid_request", state.Forms.Unreadable);
            return;
        }

        if (await InjectFaultAsync(context, form))
        {
            return;
        }

        if (duplicate is not null)
        {
            await ErrorAsync(context, 400, "invalid_request", $"Parameter '{duplicate}' was sent more than once.");
            return;
        }

        var auth = ClientAuthenticator.Authenticate(context.Request, form, state);
        if (auth.Client is null)
        {
            if (auth.Error == "invalid_client")
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"sandbox\"";
            }

            await ErrorAsync(context, auth.Error == "invalid_client" ? 401 : 400, auth.Error!, auth.Failure!);
            return;
        }

        var proof = CheckProof(context);
        if (proof.Error is not null)
        {
            await ErrorAsync(context, 400, proof.Error, proof.Description!);
            return;
        }

        switch (form.Get("grant_type"))
        {
            case "authorization_code" or "refresh_token" or DeviceCodeGrantType when ResourceProblem(form) is { } target:
                // Checked before the code or refresh token is touched: asking for the wrong audience spends nothing.
                await ErrorAsync(context, 400, "invalid_target", target);
                break;
            case null:
                await ErrorAsync(context, 400, "invalid_request", "grant_type is missing.");
                break;
            case "authorization_code":
                await ExchangeCodeAsync(context, form, auth.Client, proof.Thumbprint);
                break;
            case "refresh_token":
                await RefreshAsync(context, form, auth.Client, proof.Thumbprint);
                break;
            case DeviceCodeGrantType:
                await DeviceCodeAsync(context, form, auth.Client, proof.Thumbprint);
                break;
            default:
                await ErrorAsync(context, 400, "unsupported_grant_type", "Only authorization_code, refresh_token and the device_code grant are supported.");
                break;
        }
    }

    /// <summary>
    /// A token request's <c>resource</c> (RFC 8707 section 2.2) must be the one its grant holds: the authorize request's
    /// (through its code), the device authorization request's, or the refresh token's family's. Null when it is, or when none is named.
    /// </summary>
    private string? ResourceProblem(Dictionary<string, string> form)
    {
        if (form.Get("resource") is not { } resource) return null;
        var granted = form.Get("grant_type") switch
        {
            "authorization_code" => state.Codes.Find(form.Get("code"))?.Request.Get("resource"),
            "refresh_token" => state.Tokens.FindRefresh(form.Get("refresh_token"))?.Family.Request.Get("resource"),
            _ => state.DeviceCodes.TryGet(form.Get("device_code"), state.Time.GetUtcNow(), out var grant) ? grant.Request.Get("resource") : null,
        };
        return string.Equals(resource, granted, StringComparison.Ordinal)
            ? null
            : "resource is not the API this grant was authorized for (RFC 8707).";
    }

    /// <summary>
    /// The request's DPoP proof (RFC 9449 section 5): none while DPoP is off or none was sent (refused when required),
    /// else the proof's key thumbprint, or the reason it is refused.
    /// </summary>
    private DpopCheck CheckProof(HttpContext context)
    {
        if (!state.Dpop.Enabled) return DpopCheck.None;
        var now = state.Time.GetUtcNow();
        state.Dpop.OfferNonce(context.Response, now);
        if (DpopProofChecker.HasProof(context.Request))
            return state.Dpop.Check(context.Request, state.Endpoints!.Token, accessToken: null, now);
        return state.Options.Dpop == SandboxDpop.Required
            ? DpopCheck.Refused("This server binds every token to a key: send a DPoP proof with the token request.")
            : DpopCheck.None;
    }

    private async Task ExchangeCodeAsync(HttpContext context, Dictionary<string, string> form, SandboxClient client, string? proofKey)
    {
        var codeValue = form.Get("code");
        var redirectUri = form.Get("redirect_uri");
        if (codeValue is null || redirectUri is null)
        {
            await ErrorAsync(context, 400, "invalid_request", "code and redirect_uri are required.");
            return;
        }

        var code = state.Codes.Find(codeValue);
        if (code is null)
        {
            await ErrorAsync(context, 400, "invalid_grant", "The authorization code is unknown.");
            return;
        }

        if (!string.Equals(code.Request.ClientId, client.ClientId, StringComparison.Ordinal))
        {
            // Another client's code: refuse without consuming it, the rightful client may still redeem it.
            await ErrorAsync(context, 400, "invalid_grant", "The authorization code was issued to another client.");
            return;
        }

        // A code whose authorize request named a key (dpop_jkt, RFC 9449 section 10) is redeemed only with that key's
        // proof; refused before the code is spent, so a thief's attempt does not burn the rightful client's code.
        if (state.Dpop.Enabled && code.Request.Get("dpop_jkt") is { } boundTo && !string.Equals(boundTo, proofKey, StringComparison.Ordinal))
        {
            await ErrorAsync(context, 400, "invalid_dpop_proof", "The code is bound to another DPoP key (dpop_jkt).");
            return;
        }

        if (!code.TryConsume())
        {
            state.Counters.FamilyRevoked();
            await ErrorAsync(context, 400, "invalid_grant", "The authorization code was already used; tokens issued from it are revoked.");
            return;
        }

        if (state.Time.GetUtcNow() >= code.ExpiresAt)
        {
            await ErrorAsync(context, 400, "invalid_grant", "The authorization code has expired.");
            return;
        }

        if (!string.Equals(code.Request.RedirectUri, redirectUri, StringComparison.Ordinal))
        {
            await ErrorAsync(context, 400, "invalid_grant", "redirect_uri differs from the authorize request.");
            return;
        }

        if (CheckVerifier(code.Request.CodeChallenge, form.Get("code_verifier")) is { } pkceProblem)
        {
            await ErrorAsync(context, 400, pkceProblem.Error, pkceProblem.Description);
            return;
        }

        var now = state.Time.GetUtcNow();
        var family = new TokenFamily(code.Request, code.Subject, code.Request.Scope) { BoundKey = proofKey, AuthTime = AuthTime(code.Request, now) };
        var tokens = state.Tokens.Issue(family, now, state.Options.AccessTokenLifetime, state.Options.IssueRefreshTokens);
        code.Attach(family);
        await WriteTokensAsync(context, family, tokens, includeNonce: true);
    }

    private async Task RefreshAsync(HttpContext context, Dictionary<string, string> form, SandboxClient client, string? proofKey)
    {
        var presented = state.Tokens.FindRefresh(form.Get("refresh_token"));
        if (presented is null)
        {
            await ErrorAsync(context, 400, form.Get("refresh_token") is null ? "invalid_request" : "invalid_grant", "The refresh token is missing or unknown.");
            return;
        }

        var family = presented.Family;
        if (!string.Equals(family.ClientId, client.ClientId, StringComparison.Ordinal))
        {
            await ErrorAsync(context, 400, "invalid_grant", "The refresh token was issued to another client.");
            return;
        }

        if (family.BoundKey is not null && !string.Equals(family.BoundKey, proofKey, StringComparison.Ordinal))
        {
            // A bound family's refresh token is spent only with a proof from its key (RFC 9449 section 5).
            await ErrorAsync(context, 400, "invalid_dpop_proof", "The refresh token is bound to another DPoP key.");
            return;
        }

        var asked = form.Get("scope")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (!asked.All(family.Request.Scopes.Contains))
        {
            await ErrorAsync(context, 400, "invalid_scope", "A refresh may only narrow the original scope.");
            return;
        }

        // RFC 6749 section 6: the new access token gets the scope asked (none asked: the whole grant); the refresh token
        // keeps the whole grant, so a later refresh may ask for all of it again. In the grant's order, each name once.
        var scope = asked.Length == 0 ? null : string.Join(' ', family.Request.Scopes.Where(asked.Contains).Distinct());

        IssuedTokens? tokens = null;
        var replayed = false;
        var expired = false;
        lock (family.Gate)
        {
            if (presented.HasExpired(state.Time.GetUtcNow()))
            {
                // First, rotated or not: once expired it is as good as forgotten (the store drops it at the next issue),
                // so it answers the same before and after, and revokes nothing.
                expired = true;
            }
            else if (presented.Used)
            {
                // Replay of a rotated token: someone holds a stolen copy, so the whole family dies (RFC 9700 §4.14.2).
                family.Revoke();
                replayed = true;
            }
            else if (!family.IsRevoked)
            {
                presented.Used = true;
                tokens = state.Tokens.Issue(family, state.Time.GetUtcNow(), state.Options.AccessTokenLifetime, withRefreshToken: true, scope);
            }
        }

        if (expired)
        {
            await ErrorAsync(context, 400, "invalid_grant", "The refresh token has expired.");
            return;
        }

        if (tokens is null)
        {
            if (replayed)
            {
                state.Counters.FamilyRevoked();
            }

            await ErrorAsync(context, 400, "invalid_grant", "The refresh token was already used or revoked; its family is revoked.");
            return;
        }

        state.Counters.Refreshed();
        await WriteTokensAsync(context, family, tokens, includeNonce: false);
    }

    private Task WriteTokensAsync(HttpContext context, TokenFamily family, IssuedTokens tokens, bool includeNonce)
    {
        var body = new JsonObject
        {
            ["access_token"] = tokens.AccessToken,
            ["token_type"] = family.BoundKey is null ? "Bearer" : "DPoP",
            ["expires_in"] = (long)tokens.Lifetime.TotalSeconds,
            ["scope"] = tokens.Scope,
        };
        if (tokens.RefreshToken is not null)
        {
            body["refresh_token"] = tokens.RefreshToken;
        }

        if (tokens.IsOpenId)
        {
            body["id_token"] = IdToken(family, tokens, includeNonce);
        }

        state.Counters.TokenIssued();
        return SandboxHttp.WriteJsonAsync(context, 200, body);
    }

    /// <summary>
    /// When the user last signed in, as the session the sandbox plays (<see cref="SandboxOptions.SessionAge"/>): a request
    /// whose max_age the session exceeds signs the user in again, unless the sandbox ignores max_age. Worked out once,
    /// when a family's first tokens are issued: a refresh is no new sign-in, so its ID tokens keep this auth_time
    /// (OpenID Connect Core 1.0 section 12.2).
    /// </summary>
    private DateTimeOffset AuthTime(AuthorizeRequestInfo request, DateTimeOffset issuedAt)
    {
        var age = state.Options.SessionAge;
        if (age <= TimeSpan.Zero) return issuedAt;
        var reauthenticated = !state.Options.IgnoreMaxAge
            && long.TryParse(request.Get("max_age"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var maxAge)
            // Compared in seconds: a max_age longer than any TimeSpan (the client's to send) is simply longer than the session.
            && maxAge < age.TotalSeconds;
        return reauthenticated ? issuedAt : issuedAt - age;
    }

    private string IdToken(TokenFamily family, IssuedTokens tokens, bool includeNonce)
    {
        var claims = new JsonObject
        {
            ["iss"] = state.Endpoints!.IssuerString,
            ["sub"] = family.Subject,
            ["aud"] = family.ClientId,
            ["iat"] = tokens.IssuedAt.ToUnixTimeSeconds(),
            ["exp"] = (tokens.IssuedAt + tokens.Lifetime).ToUnixTimeSeconds(),
            ["auth_time"] = family.AuthTime.ToUnixTimeSeconds(),
            ["at_hash"] = IdTokenSigner.AccessTokenHash(tokens.AccessToken),
            ["sid"] = family.SessionId,
        };
        if ((state.Options.AuthenticationClass ?? family.Request.Get("acr_values")?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()) is { } acr)
        {
            claims["acr"] = acr;
        }

        if (includeNonce && family.Request.Nonce is { } nonce)
        {
            claims["nonce"] = nonce;
        }

        return state.Signer.Sign(claims);
    }

    private static (string Error, string Description)? CheckVerifier(string? challenge, string? verifier)
    {
        if (challenge is null)
        {
            // RFC 9700 §2.1.1: a verifier without a challenge hints at a PKCE downgrade.
            return verifier is null ? null : ("invalid_grant", "code_verifier sent, but the authorize request had no code_challenge.");
        }

        if (verifier is null)
        {
            return ("invalid_grant", "code_verifier is required for this code.");
        }

        if (!VerifierFormat().IsMatch(verifier))
        {
            return ("invalid_grant", "code_verifier must be 43-128 unreserved characters.");
        }

        var computed = Encoding.ASCII.GetBytes(Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        return CryptographicOperations.FixedTimeEquals(computed, Encoding.ASCII.GetBytes(challenge))
            ? null
            : ("invalid_grant", "code_verifier does not match the code_challenge.");
    }

    /// <summary>Applies the fault plan, if any strikes. Returns <c>true</c> when the request was answered (or dropped).</summary>
    private async Task<bool> InjectFaultAsync(HttpContext context, Dictionary<string, string> form)
    {
        var plan = state.Faults;
        if (plan is null)
        {
            return false;
        }

        var login = form.Get("grant_type") switch
        {
            "authorization_code" => state.Codes.Find(form.Get("code"))?.Request,
            "refresh_token" => state.Tokens.FindRefresh(form.Get("refresh_token"))?.Family.Request,
            // A device login's polls are its token requests: its script's fault strikes there as on a code exchange.
            DeviceCodeGrantType => state.DeviceCodes.TryGet(form.Get("device_code"), state.Time.GetUtcNow(), out var grant) ? grant.Request : null,
            _ => null,
        };
        var fault = plan.Choose(login);
        if (fault is null)
        {
            return false;
        }

        // A delay is counted once its timer exists (below), so a test that waits for the count and then advances a
        // fake clock cannot advance it before the timer is registered.
        if (fault.Kind != TokenFaultKind.Delay) state.Counters.Fault(fault.Kind);
        switch (fault.Kind)
        {
            case TokenFaultKind.ServerError:
                await SandboxHttp.WriteJsonAsync(context, fault.StatusCode, new JsonObject
                {
                    ["error"] = "server_error",
                    ["error_description"] = "Fault injected by the sandbox.",
                });
                return true;

            case TokenFaultKind.MalformedJson:
                context.Response.StatusCode = 200;
                SandboxHttp.NoStore(context.Response);
                context.Response.ContentType = "application/json; charset=utf-8";
                await context.Response.WriteAsync("{\"access_token\": \"trunc", context.RequestAborted);
                return true;

            case TokenFaultKind.DropConnection:
                context.Abort();
                return true;

            default:
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, state.Stopping))
                {
                    try
                    {
                        var delay = Task.Delay(fault.DelayBy, state.Time, linked.Token);
                        state.Counters.Fault(fault.Kind);
                        await delay;
                    }
                    catch (OperationCanceledException)
                    {
                        // Client gone or server stopping: no half answer.
                        context.Abort();
                        return true;
                    }
                }

                return false;
        }
    }

    private Task ErrorAsync(HttpContext context, int status, string error, string description)
    {
        state.Counters.Error(error);
        return SandboxHttp.WriteErrorAsync(context, status, error, description);
    }

    [GeneratedRegex("^[A-Za-z0-9._~-]{43,128}$")]
    private static partial Regex VerifierFormat();
}
