using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace O8Actors.Tests.Security;

/// <summary>
/// A user who logs an outcome, an event or a context object must never log a secret: every public type that can hold
/// a token, code, secret, verifier, state or URL is built with marked values and its <c>ToString()</c> searched.
/// </summary>
public sealed partial class NoSecretsInToStringTests
{
    private const string Marker = "SECRET";

    // A name that says "secret": tokens (not the token type), codes, secrets, verifiers, states, challenges, nonces,
    // browser bindings (server mode's per-login browser secret).
    [GeneratedRegex("token(?!type)|code|secret|verifier|state|challenge|nonce|password|binding", RegexOptions.IgnoreCase)]
    private static partial Regex SensitiveName();

    // A URL that can carry a login's state or code (an authorize URL, a callback URL), as opposed to a redirect URI.
    [GeneratedRegex("^(?!.*redirect).*(url|uri)$", RegexOptions.IgnoreCase)]
    private static partial Regex SensitiveUrl();

    public static TheoryData<string> TypesThatHoldSecrets() => FullNames(Candidates());

    private static TheoryData<string> FullNames(IEnumerable<Type> types)
    {
        var data = new TheoryData<string>();
        foreach (var type in types) data.Add(type.FullName!);
        return data;
    }

    [Fact]
    public void The_search_finds_the_types_it_is_meant_to_cover()
    {
        var names = Candidates().Select(t => t.Name).ToHashSet();

        Assert.Contains(nameof(TokenSet), names);
        Assert.Contains(nameof(AuthorizeUrlReadyEvent), names);
        Assert.Contains(nameof(LoginSucceeded), names);
        Assert.Contains("CodeExchangeContext", names);
        Assert.Contains("AuthorizeUrlContext", names);
        Assert.Contains("PendingLogin", names);
    }

    [Fact]
    public void The_browser_binding_secrets_a_callback_carries_are_not_printed()
    {
        var secrets = new Dictionary<string, string> { ["login-1"] = $"{Marker}-binding" };
        var received = new O8Actors.Callback.CallbackReceived($"{Marker}-state", $"{Marker}-code", null, null, null) { BrowserSecrets = secrets };
        var routed = new O8Actors.Callback.AuthorizationCallback("login-1", $"{Marker}-code", null, null, null) { BrowserSecrets = secrets };
        var hash = new O8Actors.Binding.BrowserBindingHash(System.Text.Encoding.UTF8.GetBytes(Marker), System.Text.Encoding.UTF8.GetBytes(Marker));
        var start = new O8Actors.Flows.StartFlow("login-1", "p", AuthorizationRequest.Default) { Binding = hash };

        foreach (var text in new[] { received.ToString(), routed.ToString(), hash.ToString(), start.ToString() })
            Assert.DoesNotContain(Marker, text, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(TypesThatHoldSecrets))]
    public void ToString_shows_no_secret(string typeName)
    {
        var type = Candidates().Single(t => t.FullName == typeName);

        var instance = Build(type, depth: 0);
        var text = instance.ToString() ?? "";

        Assert.DoesNotContain(Marker, text, StringComparison.OrdinalIgnoreCase);
    }

    public static TheoryData<string> InternalRecordsThatHoldAnythingTheyAreGiven() => FullNames(InternalCandidates());

    [Fact]
    public void The_search_finds_the_internal_records_it_is_meant_to_cover() =>
        Assert.Subset(InternalCandidates().Select(t => t.Name).ToHashSet(), new HashSet<string> { "CodeExchangeFailed", "UserInfoFetched", "DeviceCodeRefused" });

    /// <summary>
    /// A message that reaches a stopped actor, or an Ask that timed out, goes to Akka's dead letters, which Akka logs
    /// with the message's text at Information (akka.log-dead-letters is on by default). A record's own ToString prints
    /// every member: an exception whole (a strategy's may quote a token response, with its inner exceptions), a JSON
    /// document (personal data) or whatever an <c>object</c> holds. Each internal record with such a member prints
    /// none of it.
    /// </summary>
    [Theory]
    [MemberData(nameof(InternalRecordsThatHoldAnythingTheyAreGiven))]
    public void An_internal_record_prints_no_exception_text_document_or_held_object(string typeName)
    {
        var type = InternalCandidates().Single(t => t.FullName == typeName);

        var text = Build(type, depth: 0).ToString() ?? "";

        Assert.DoesNotContain(Marker, text, StringComparison.OrdinalIgnoreCase);
    }

    private static IEnumerable<Type> InternalCandidates() =>
        new[] { typeof(OAuthLogins).Assembly, typeof(O8Actors.Hosting.PendingLogin).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => t is { IsPublic: false, IsNestedPublic: false, IsAbstract: false, IsGenericTypeDefinition: false }
                        && !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute))
                        // A record: the compiler gives it an EqualityContract, and a ToString that prints every member.
                        && t.GetProperty("EqualityContract", BindingFlags.NonPublic | BindingFlags.Instance) is not null)
            .Where(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Any(p => HoldsAnything(p.PropertyType)))
            .Where(t => Constructor(t) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    private static bool HoldsAnything(Type type) => HoldsAnything(type, depth: 0);

    // One level into the library's own types: a record that holds such a record prints it, with whatever that holds.
    private static bool HoldsAnything(Type type, int depth)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return typeof(Exception).IsAssignableFrom(type) || type == typeof(JsonElement) || type == typeof(object)
            || depth == 0 && type.Assembly == typeof(OAuthLogins).Assembly && !type.IsEnum
               && type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Any(p => HoldsAnything(p.PropertyType, depth + 1));
    }

    private static IEnumerable<Type> Candidates() =>
        new[] { typeof(OAuthLogins).Assembly, typeof(O8Actors.Hosting.PendingLogin).Assembly }
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => t is { IsAbstract: false, IsInterface: false, IsEnum: false, IsGenericTypeDefinition: false }
                        && !typeof(Exception).IsAssignableFrom(t) && !typeof(Delegate).IsAssignableFrom(t))
            .Where(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Any(HoldsSecret))
            .Where(t => Constructor(t) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    private static bool HoldsSecret(PropertyInfo p) =>
        (p.PropertyType == typeof(string) && SensitiveName().IsMatch(p.Name))
        || (p.PropertyType == typeof(Uri) && SensitiveUrl().IsMatch(p.Name))
        || p.PropertyType == typeof(TokenSet);

    /// <summary>The public constructor with the most parameters whose types this test can fill.</summary>
    private static ConstructorInfo? Constructor(Type type) =>
        type.GetConstructors()
            .Where(c => c.GetParameters().All(p => CanFill(p.ParameterType)))
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault();

    private static bool CanFill(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(string) || type == typeof(Uri) || type.IsPrimitive || type.IsEnum || type == typeof(TimeSpan)
               || type == typeof(DateTimeOffset) || type == typeof(IReadOnlyList<string>) || type == typeof(IReadOnlyDictionary<string, string>)
               || type == typeof(Task<LoginOutcome>) || type == typeof(JsonElement) || type == typeof(object) || type == typeof(Exception)
               || (type.Assembly == typeof(OAuthLogins).Assembly && type is { IsAbstract: false, IsInterface: false });
    }

    private static object Build(Type type, int depth)
    {
        var constructor = Constructor(type) ?? throw new InvalidOperationException($"{type} has no constructor this test can fill");
        var args = constructor.GetParameters().Select(p => Value(p.ParameterType, p.Name ?? "", depth)).ToArray();
        var instance = constructor.Invoke(args);
        // Settable secrets on options classes (ClientSecret and the like) get marked too.
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.SetMethod!.IsPublic))
        {
            if (property.PropertyType == typeof(string) && SensitiveName().IsMatch(property.Name))
                property.SetValue(instance, $"{Marker}-{property.Name}");
        }
        return instance;
    }

    private static object? Value(Type type, string name, int depth)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string)) return SensitiveName().IsMatch(name) ? $"{Marker}-{name}" : $"plain-{name}";
        if (underlying == typeof(Uri))
            return SensitiveUrl().IsMatch(name)
                ? new Uri($"https://idp.test/authorize?state={Marker}-state&code={Marker}-code&nonce={Marker}-nonce")
                : new Uri("https://localhost:41539/");
        if (underlying == typeof(bool)) return true;
        if (underlying.IsPrimitive) return Convert.ChangeType(1, underlying);
        if (underlying.IsEnum) return Enum.GetValues(underlying).GetValue(0);
        if (underlying == typeof(TimeSpan)) return TimeSpan.FromMinutes(1);
        if (underlying == typeof(DateTimeOffset)) return DateTimeOffset.UnixEpoch.AddYears(60);
        if (underlying == typeof(IReadOnlyList<string>)) return new[] { (string)Value(typeof(string), name, depth)! };
        if (underlying == typeof(IReadOnlyDictionary<string, string>)) return new Dictionary<string, string> { ["key"] = "plain-value" };
        // An exception the library did not write (a strategy's, a store's): its text and its inner one's are marked.
        if (underlying == typeof(Exception)) return new InvalidOperationException($"{Marker}-{name}", new Exception($"{Marker}-inner"));
        if (underlying == typeof(JsonElement)) return JsonDocument.Parse($$"""{"email":"{{Marker}}-{{name}}"}""").RootElement.Clone();
        if (underlying == typeof(object)) return $"{Marker}-{name}";
        if (underlying == typeof(Task<LoginOutcome>)) return Task.FromResult<LoginOutcome>(new LoginCancelled("plain-login"));
        return depth < 3 ? Build(underlying, depth + 1) : null;
    }
}
