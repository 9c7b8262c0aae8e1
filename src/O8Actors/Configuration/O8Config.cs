using Akka.Configuration;

namespace O8Actors.Configuration;

/// <summary>The shipped HOCON defaults (<c>hocon/o8.conf</c>, embedded in the assembly).</summary>
internal static class O8Config
{
    private static readonly Lazy<Config> DefaultConfig = new(Load);

    /// <summary>The defaults, parsed once.</summary>
    public static Config Default => DefaultConfig.Value;

    private static Config Load()
    {
        using var stream = typeof(O8Config).Assembly.GetManifestResourceStream("O8Actors.o8.conf")
            ?? throw new InvalidOperationException("The embedded O8Actors defaults (o8.conf) are missing from the assembly.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
