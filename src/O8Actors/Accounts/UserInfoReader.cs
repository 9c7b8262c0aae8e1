using System.Security.Claims;
using System.Text.Json;

namespace O8Actors.Accounts;

/// <summary>
/// Turns a UserInfo response into <see cref="UserInfo"/> once its <c>sub</c> is the account's: OpenID Connect Core 1.0
/// section 5.3.4 says the claims of a response about another subject must not be used (a token substituted by an
/// attacker, or an endpoint that answers for someone else).
/// </summary>
internal static class UserInfoReader
{
    /// <exception cref="UserInfoException">No <c>sub</c>, another one than <paramref name="expectedSubject"/>, or a claim named twice.</exception>
    public static UserInfo Read(OAuthAccount account, string expectedSubject, JsonElement response)
    {
        // A claim named twice is refused before anything is read: the subject check reads the last "sub", the claims
        // list gets every one, so {"sub":"bob",...,"sub":"alice"} would pass as Alice and put Bob first in her principal.
        if (NamesAClaimTwice(response))
            throw new UserInfoException(UserInfoFailure.InvalidResponse,
                $"The UserInfo response of provider '{account.Provider}' names a claim more than once; its claims were not used.");
        if (!response.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(sub.GetString()))
            throw new UserInfoException(UserInfoFailure.InvalidResponse,
                $"The UserInfo response of provider '{account.Provider}' has no 'sub' claim (OpenID Connect Core 1.0 section 5.3.2).");
        // The foreign subject is not quoted: it is the server's text, and possibly another person's identifier.
        if (!string.Equals(sub.GetString(), expectedSubject, StringComparison.Ordinal))
            throw new UserInfoException(UserInfoFailure.SubjectMismatch,
                $"The UserInfo response of provider '{account.Provider}' is about another user than the ID token of {account}; its claims were not used (OpenID Connect Core 1.0 section 5.3.4).");

        var claims = new List<Claim>();
        foreach (var property in response.EnumerateObject()) Add(claims, property.Name, property.Value);
        return new UserInfo(account, expectedSubject, StringOf(response, "email"), StringOf(response, "name"), claims.AsReadOnly())
        {
            Json = response,
        };
    }

    private static bool NamesAClaimTwice(JsonElement response)
    {
        if (response.ValueKind != JsonValueKind.Object) return false;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in response.EnumerateObject())
            if (!names.Add(property.Name)) return true;
        return false;
    }

    private static void Add(List<Claim> claims, string name, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                claims.Add(new Claim(name, value.GetString()!, ClaimValueTypes.String));
                break;
            case JsonValueKind.True or JsonValueKind.False:
                claims.Add(new Claim(name, value.ValueKind == JsonValueKind.True ? "true" : "false", ClaimValueTypes.Boolean));
                break;
            case JsonValueKind.Number:
                claims.Add(new Claim(name, value.GetRawText(), value.TryGetInt64(out _) ? ClaimValueTypes.Integer64 : ClaimValueTypes.Double));
                break;
            case JsonValueKind.Array:
                // One claim per element, as a JWT's array claims are read.
                foreach (var element in value.EnumerateArray())
                {
                    if (element.ValueKind is JsonValueKind.Array or JsonValueKind.Object) claims.Add(new Claim(name, element.GetRawText(), JsonValue));
                    else Add(claims, name, element);
                }
                break;
            case JsonValueKind.Object:
                claims.Add(new Claim(name, value.GetRawText(), JsonValue));
                break;
            // null: the claim is absent (section 5.3.2).
        }
    }

    /// <summary>The value type Microsoft.IdentityModel gives a JSON object claim.</summary>
    private const string JsonValue = "JSON";

    private static string? StringOf(JsonElement response, string name) =>
        response.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
