using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace O8Actors.TestKit.Sandbox;

/// <summary>
/// <c>POST /device/code</c>: the device authorization request (RFC 8628 section 3.1), with the same client authentication
/// as the token endpoint. Each grant's user follows <see cref="SandboxOptions.DeviceUsers"/>.
/// </summary>
internal sealed class DeviceAuthorizationEndpoint(SandboxState state)
{
    // RFC 8628 section 6.1: a user code from an alphabet without vowels or look-alikes, 8 characters (about 37 bits).
    private const string UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ";

    public async Task HandleAsync(HttpContext context)
    {
        if (await ClientFormRequest.ReadAsync(context, state, "device authorization endpoint") is not { } read) return;
        var (client, form) = read;

        if (form.Get("resource") is { } resource && !state.Options.ResourceServers.Contains(resource, StringComparer.Ordinal))
        {
            await ErrorAsync(context, 400, "invalid_target", "resource names no API this server issues tokens for (RFC 8707).");
            return;
        }

        var parameters = ClientFormRequest.WithoutCredentials(form);
        parameters.Remove("client_id");
        var scope = form.Get("scope") ?? string.Empty;
        var info = new DeviceRequestInfo(client.ClientId, scope, form.Get("login_hint"), parameters);
        var user = state.Options.DeviceUsers(info);
        user.Validate();

        var deviceCode = SandboxHttp.NewSecret();
        var userCode = NewUserCode();
        var endpoints = state.Endpoints!;
        var request = new AuthorizeRequestInfo(client.ClientId, RedirectUri: string.Empty, State: string.Empty, scope,
            CodeChallenge: null, Nonce: null, info.LoginHint, parameters);
        var lifetime = state.Options.DeviceCodeLifetime;
        var now = state.Time.GetUtcNow();
        var grant = new DeviceGrant(request, userCode, now, now + lifetime, user, state.Options.DevicePollInterval);
        // A fresh 256-bit secret cannot be taken already; if it were, the client must not poll another client's grant.
        if (!state.DeviceCodes.TryAdd(deviceCode, grant, grant.ExpiresAt + AuthorizationCodeStore.LateAnswersFor(lifetime), now))
            throw new InvalidOperationException("A new device code collided with a kept one.");
        state.Counters.DeviceCodeIssued();

        var verification = endpoints.DeviceVerification.AbsoluteUri;
        await SandboxHttp.WriteJsonAsync(context, 200, new JsonObject
        {
            ["device_code"] = deviceCode,
            ["user_code"] = userCode,
            ["verification_uri"] = verification,
            ["verification_uri_complete"] = $"{verification}?user_code={Uri.EscapeDataString(userCode)}",
            ["expires_in"] = (long)lifetime.TotalSeconds,
            ["interval"] = (long)state.Options.DevicePollInterval.TotalSeconds,
        });
    }

    private static string NewUserCode()
    {
        Span<char> code = stackalloc char[9];
        for (var i = 0; i < code.Length; i++)
            code[i] = i == 4 ? '-' : UserCodeAlphabet[RandomNumberGenerator.GetInt32(UserCodeAlphabet.Length)];
        return new string(code);
    }

    private Task ErrorAsync(HttpContext context, int status, string error, string description) =>
        ClientFormRequest.ErrorAsync(context, state, status, error, description);
}
