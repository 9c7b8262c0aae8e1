using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace O8Actors.TestSupport;

/// <summary>
/// One Data Protection key ring for every node of a test cluster: a temp folder whose first key is made before any node
/// starts (nodes starting at once would otherwise each make their own), so every node checks every browser binding.
/// </summary>
public sealed class SharedKeyRing : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("o8-cluster-keys-");

    /// <summary>Makes the ring and its first key for <paramref name="applicationName"/>.</summary>
    public SharedKeyRing(string applicationName)
    {
        ApplicationName = applicationName;
        DataProtectionProvider.Create(_folder, o => o.SetApplicationName(applicationName)).CreateProtector("warm-up").Protect([1]);
    }

    /// <summary>The Data Protection application name every node uses.</summary>
    public string ApplicationName { get; }

    /// <summary>Points a node's Data Protection at this ring.</summary>
    public void AddTo(IServiceCollection services) =>
        services.AddDataProtection().PersistKeysToFileSystem(_folder).SetApplicationName(ApplicationName);

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A node still closing a key file; the temp folder is the OS's to clean.
        }
    }
}
