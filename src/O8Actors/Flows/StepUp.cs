using System.Globalization;

namespace O8Actors;

/// <summary>
/// A login's step-up requirements (OpenID Connect Core 1.0 section 3.1.2.1): how recent the sign-in must be
/// (<c>max_age</c>, <see cref="AuthorizationRequest.MaxAge"/>) and how it must have been made (<c>acr_values</c>,
/// <see cref="AuthorizationRequest.AcrValues"/>), read from the request's properties or its extra parameters, checked
/// when the login is asked for, and put on the authorize request.
/// </summary>
internal static class StepUp
{
    public const string MaxAgeParameter = "max_age";
    public const string AcrValuesParameter = "acr_values";

    /// <summary>The longest max_age taken: a century (longer ones are mistakes, and would overflow the clock's arithmetic).</summary>
    private static readonly TimeSpan LongestMaxAge = TimeSpan.FromDays(36525);

    /// <summary><see cref="AuthorizationRequest.MaxAge"/>, or the <c>max_age</c> of the extra parameters (whole seconds).</summary>
    public static TimeSpan? MaxAgeOf(AuthorizationRequest request) =>
        request.MaxAge ?? (Extra(request, MaxAgeParameter) is { } seconds ? ParseMaxAge(seconds) : null);

    /// <summary><see cref="AuthorizationRequest.AcrValues"/>, or the space-separated <c>acr_values</c> of the extra parameters.</summary>
    public static IReadOnlyList<string>? AcrValuesOf(AuthorizationRequest request) =>
        request.AcrValues ?? (Extra(request, AcrValuesParameter) is { } values ? ParseAcrValues(values) : null);

    /// <summary>A <c>max_age</c> parameter's value: whole seconds up to a century; null when it is not one.</summary>
    private static TimeSpan? ParseMaxAge(string seconds) =>
        long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s <= LongestMaxAge.TotalSeconds
            ? TimeSpan.FromSeconds(s)
            : null;

    private static string[] ParseAcrValues(string values) => values.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The step-up a provider's own authorize parameters (<see cref="Providers.GenericOAuthOptions.AuthorizeParameters"/>,
    /// <see cref="Providers.OidcDiscoveryOptions.AuthorizeParameters"/>) ask of every login: a requirement, checked on
    /// each login's ID token like a login's own. Null when they ask for neither <c>max_age</c> nor <c>acr_values</c>.
    /// </summary>
    public static Requirement? OfProvider(IEnumerable<KeyValuePair<string, string>>? parameters)
    {
        if (parameters is null) return null;
        TimeSpan? maxAge = null;
        IReadOnlyList<string>? acr = null;
        foreach (var (key, value) in parameters)
        {
            if (key == MaxAgeParameter) maxAge = ParseMaxAge(value);
            else if (key == AcrValuesParameter) acr = ParseAcrValues(value ?? "");
        }
        return maxAge is null && acr is null ? null : new Requirement(maxAge, acr);
    }

    /// <summary>
    /// Throws for a provider's <c>max_age</c> or <c>acr_values</c> given wrongly (not whole seconds up to a century; no acr
    /// value), or on a provider that validates no ID tokens (<paramref name="validatesIdTokens"/> false), where nothing
    /// could check them and every login would fail.
    /// </summary>
    public static void ThrowIfInvalidForProvider(IEnumerable<KeyValuePair<string, string>> parameters, string who, bool validatesIdTokens = true)
    {
        var asked = false;
        foreach (var (key, value) in parameters)
        {
            if (key == MaxAgeParameter && ParseMaxAge(value ?? "") is null)
                throw new ArgumentException($"{who}: AuthorizeParameters has a max_age that is not a whole number of seconds up to a century (OpenID Connect Core 1.0 section 3.1.2.1).", "AuthorizeParameters");
            if (key == AcrValuesParameter && ParseAcrValues(value ?? "").Length == 0)
                throw new ArgumentException($"{who}: AuthorizeParameters has an empty acr_values; give at least one value (space-separated).", "AuthorizeParameters");
            asked |= key is MaxAgeParameter or AcrValuesParameter;
        }
        if (asked && !validatesIdTokens)
            throw new ArgumentException(
                $"{who}: AuthorizeParameters asks every login for max_age or acr_values, which only a validated ID token can show " +
                "(they are checked on each login), but the provider validates no ID tokens. Set JwksUri and Issuer.", "AuthorizeParameters");
    }

    /// <summary>
    /// A login's authorize parameters held to its provider's step-up (<paramref name="required"/>), so the request asks for
    /// the requirement the ID token is held to: the provider's <c>max_age</c> in place of the login's own when the
    /// provider's is shorter, and the login's <c>acr_values</c> narrowed to those among the provider's
    /// (<see cref="AcceptedAcrValues"/>; the login's order kept). A login whose values share none with the provider's is
    /// refused before (<see cref="AcrValuesOutsideProviders"/>).
    /// </summary>
    public static IReadOnlyDictionary<string, string> WithProviderStepUp(IReadOnlyDictionary<string, string> parameters, Requirement? required)
    {
        if (required is null) return parameters;
        Dictionary<string, string>? held = null;
        if (required.MaxAge is { } providers
            && parameters.TryGetValue(MaxAgeParameter, out var own) && ParseMaxAge(own) is { } login && login > providers)
            (held ??= new(parameters, StringComparer.Ordinal))[MaxAgeParameter] = ((long)providers.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        if (parameters.TryGetValue(AcrValuesParameter, out var asked)
            && AcceptedAcrValues(ParseAcrValues(asked), required) is { Count: > 0 } accepted
            && string.Join(' ', accepted) is var narrowed && narrowed != asked)
            (held ??= new(parameters, StringComparer.Ordinal))[AcrValuesParameter] = narrowed;
        return held ?? parameters;
    }

    /// <summary>
    /// The <c>acr</c> values a login's ID token may show: the login's own (<paramref name="login"/>) that are also among its
    /// provider's required ones, so a login (whose <c>acr_values</c> may come from a user's query through its extra
    /// parameters) narrows the operator's requirement and never widens it; the provider's when the login names none; the
    /// login's when the provider requires none. Null: not checked. Empty when the two share no value.
    /// </summary>
    public static IReadOnlyList<string>? AcceptedAcrValues(IReadOnlyList<string>? login, Requirement? required) =>
        required?.AcrValues is not { } providers ? login
        : login is null ? providers
        : login.Where(value => providers.Contains(value, StringComparer.Ordinal)).ToArray();

    /// <summary>
    /// Whether a login's authorize parameters ask for <c>acr_values</c> of which none is among its provider's required
    /// ones: no sign-in could pass both, so the login is refused before the browser opens rather than after the user signed in.
    /// </summary>
    public static bool AcrValuesOutsideProviders(IReadOnlyDictionary<string, string> parameters, Requirement? required) =>
        parameters.TryGetValue(AcrValuesParameter, out var asked) && AcceptedAcrValues(ParseAcrValues(asked), required) is { Count: 0 };

    /// <summary>Why a login is refused for <see cref="AcrValuesOutsideProviders"/>; the login's values are not quoted (a user's query may have set them).</summary>
    public static string AcrValuesRefused(string provider, Requirement required) =>
        $"The login asks for acr_values of which none is among those the provider '{provider}' requires of every login " +
        $"({string.Join(' ', required.AcrValues ?? [])}, its AuthorizeParameters): a login may narrow the provider's requirement, " +
        "never widen it, so no sign-in could pass both checks.";

    /// <summary>A provider's step-up requirement (<see cref="OfProvider"/>): <c>max_age</c> and <c>acr_values</c>, either may be null.</summary>
    public sealed record Requirement(TimeSpan? MaxAge, IReadOnlyList<string>? AcrValues);

    /// <summary>Whether the login must be a browser login: a device login cannot carry either requirement.</summary>
    public static bool Requested(AuthorizationRequest request) =>
        request.MaxAge is not null || request.AcrValues is not null
        || (request.ExtraParameters is { } extra && (extra.ContainsKey(MaxAgeParameter) || extra.ContainsKey(AcrValuesParameter)));

    /// <summary>
    /// Throws for a requirement given wrongly: a negative <c>MaxAge</c>; either given twice (property and extra
    /// parameter) or malformed there; no acr value, or one with a space; either with a device login.
    /// </summary>
    public static void ThrowIfInvalid(AuthorizationRequest request, string paramName)
    {
        // Each read once: this runs for every login a caller asks for.
        var extraMaxAge = Extra(request, MaxAgeParameter);
        var extraAcr = Extra(request, AcrValuesParameter);
        if (extraMaxAge is null && extraAcr is null && request.MaxAge is null && request.AcrValues is null) return;
        var maxAge = MaxAgeOf(request);
        var acr = AcrValuesOf(request);
        if (request.MaxAge is { } given && (given < TimeSpan.Zero || given > LongestMaxAge))
            throw new ArgumentOutOfRangeException(paramName, "MaxAge must be between zero (the user signs in again) and a century.");
        if (request.MaxAge is not null && extraMaxAge is not null)
            throw new ArgumentException("max_age is given twice, as MaxAge and in ExtraParameters: give it once (MaxAge).", paramName);
        if (extraMaxAge is not null && maxAge is null)
            throw new ArgumentException("The max_age in ExtraParameters is not a whole number of seconds up to a century (OpenID Connect Core 1.0 section 3.1.2.1).", paramName);
        if (request.AcrValues is not null && extraAcr is not null)
            throw new ArgumentException("acr_values is given twice, as AcrValues and in ExtraParameters: give it once (AcrValues).", paramName);
        if (acr is not null && (acr.Count == 0 || acr.Any(v => string.IsNullOrWhiteSpace(v) || v.Contains(' ', StringComparison.Ordinal))))
            throw new ArgumentException("AcrValues needs at least one value, none empty or with a space (OpenID Connect acr_values is space-separated).", paramName);
        if (request.Method == LoginMethod.Device && (maxAge is not null || acr is not null))
            throw new ArgumentException("max_age and acr_values (MaxAge, AcrValues) apply to browser logins; a device login cannot ask the provider for them.", paramName);
    }

    /// <summary>The request's extra parameters, with <c>max_age</c> (whole seconds, rounded down) and <c>acr_values</c> from its properties.</summary>
    public static IReadOnlyDictionary<string, string> AuthorizeParameters(AuthorizationRequest request)
    {
        if (request.MaxAge is null && request.AcrValues is null) return request.Parameters;
        var parameters = new Dictionary<string, string>(request.Parameters, StringComparer.Ordinal);
        if (request.MaxAge is { } maxAge) parameters[MaxAgeParameter] = ((long)maxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        if (request.AcrValues is { } acr) parameters[AcrValuesParameter] = string.Join(' ', acr);
        return parameters;
    }

    /// <summary>Whether a login's authorize parameters (<see cref="AuthorizeParameters"/>) ask for a step-up.</summary>
    public static bool Asked(IReadOnlyDictionary<string, string> parameters) =>
        parameters.ContainsKey(MaxAgeParameter) || parameters.ContainsKey(AcrValuesParameter);

    /// <summary>Why a step-up login is refused on a strategy that does not enforce it (<see cref="Providers.ProviderStrategy.EnforcesStepUp"/>).</summary>
    public static string Unenforced(Providers.ProviderStrategy strategy) =>
        $"The login asks for max_age or acr_values, but the provider '{strategy.Name}' ({strategy.GetType().Name}) does not check them " +
        "on a validated ID token (its EnforcesStepUp is false), so the login could succeed without the step-up it asked for. " +
        "Use a GenericOAuthStrategy with JwksUri and Issuer, or an OidcDiscoveryStrategy, or a strategy that checks them and says so.";

    private static string? Extra(AuthorizationRequest request, string name) =>
        request.ExtraParameters is { } extra && extra.TryGetValue(name, out var value) ? value : null;
}
