using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using O8Actors.Runtime;

namespace O8Actors.TestKit.Sandbox;

/// <summary>The outcome of client authentication; <see cref="Failure"/> is safe to show (it never echoes the secret).</summary>
internal sealed record ClientAuthentication(SandboxClient? Client, string? Error, string? Failure)
{
    public static ClientAuthentication Ok(SandboxClient client) => new(client, null, null);
    public static ClientAuthentication Invalid(string failure) => new(null, "invalid_client", failure);
    public static ClientAuthentication BadRequest(string failure) => new(null, "invalid_request", failure);
}

/// <summary>Token-endpoint client authentication (RFC 6749 §2.3): exactly one method, the one the client registered.</summary>
internal static class ClientAuthenticator
{
    public static ClientAuthentication Authenticate(HttpRequest request, IReadOnlyDictionary<string, string> form, SandboxState state)
    {
        var formId = form.Get("client_id");
        var formSecret = form.Get("client_secret");
        var registry = state.Clients;
        string clientId;
        string? secret;
        ClientAuthMethod used;

        var hasBasic = AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var basic)
            && string.Equals(basic.Scheme, "Basic", StringComparison.OrdinalIgnoreCase);
        if (form.Get("client_assertion_type") is not null || form.Get("client_assertion") is not null)
        {
            return hasBasic || formSecret is not null
                ? ClientAuthentication.BadRequest("The client used more than one authentication method.")
                : ClientAssertionChecker.Check(request, form, state);
        }

        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            && string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (formSecret is not null)
            {
                return ClientAuthentication.BadRequest("The client used more than one authentication method.");
            }

            if (!TryDecodeBasic(header.Parameter, out clientId, out secret))
            {
                return ClientAuthentication.Invalid("The Basic authorization header is malformed.");
            }

            if (formId is not null && !string.Equals(formId, clientId, StringComparison.Ordinal))
            {
                return ClientAuthentication.BadRequest("client_id in the body differs from the Basic credentials.");
            }

            used = ClientAuthMethod.Basic;
        }
        else if (formSecret is not null)
        {
            if (formId is null)
            {
                return ClientAuthentication.Invalid("client_secret was sent without client_id.");
            }

            (clientId, secret, used) = (formId, formSecret, ClientAuthMethod.Post);
        }
        else if (formId is not null)
        {
            (clientId, secret, used) = (formId, null, ClientAuthMethod.None);
        }
        else
        {
            return ClientAuthentication.Invalid("No client authentication was sent.");
        }

        var client = registry.Find(clientId);
        if (client is null)
        {
            return ClientAuthentication.Invalid("Unknown client.");
        }

        if (client.AuthMethod != used)
        {
            return ClientAuthentication.Invalid($"This client must authenticate with {client.AuthMethodName}.");
        }

        if (used != ClientAuthMethod.None && !ConstantTime.AreEqual(client.Secret, secret))
        {
            return ClientAuthentication.Invalid("Client authentication failed.");
        }

        return ClientAuthentication.Ok(client);
    }

    private static bool TryDecodeBasic(string? parameter, out string clientId, out string? secret)
    {
        clientId = string.Empty;
        secret = null;
        if (string.IsNullOrEmpty(parameter))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
        }
        catch (FormatException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        // RFC 6749 §2.3.1: both parts are application/x-www-form-urlencoded before Basic encoding.
        clientId = WebUtility.UrlDecode(decoded[..colon]);
        secret = WebUtility.UrlDecode(decoded[(colon + 1)..]);
        return clientId.Length > 0;
    }
}
