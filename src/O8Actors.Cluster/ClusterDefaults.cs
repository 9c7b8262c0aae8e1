using Akka.Configuration;

namespace O8Actors.Cluster;

/// <summary>
/// The package's HOCON defaults (<c>hocon/o8-cluster.conf</c>, embedded): the keep-majority split brain resolver, and an
/// Akka.Remote frame that holds a login's outcome.
/// </summary>
internal static class ClusterDefaults
{
    private const string ResourceName = "O8Actors.Cluster.o8-cluster.conf";

    /// <summary>The text of <c>o8-cluster.conf</c>.</summary>
    public static string Text { get; } = Load();

    /// <summary>The defaults, parsed.</summary>
    public static Config Config { get; } = ConfigurationFactory.ParseString(Text);

    private static string Load()
    {
        using var stream = typeof(ClusterDefaults).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from O8Actors.Cluster.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
