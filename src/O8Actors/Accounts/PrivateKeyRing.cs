using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace O8Actors.Accounts;

/// <summary>
/// A Data Protection key ring in a folder of its own, as the file token store and the persistence store keep it: the
/// folder 0700 and every key file 0600 on Linux and macOS; on Windows each key is encrypted with DPAPI (the user's), since
/// a key ring in an explicit folder is otherwise written in plain text there.
/// </summary>
internal static class PrivateKeyRing
{
    /// <summary>The provider over the key ring in <paramref name="folder"/>, created (or tightened) here.</summary>
    public static IDataProtectionProvider Create(string folder, string applicationName)
    {
        PrivateFiles.CreateFolder(folder);
        // Key files an older version (or another tool) left with the umask's mode.
        PrivateFiles.TightenFiles(folder);
        var directory = new DirectoryInfo(folder);
        return DataProtectionProvider.Create(directory, builder =>
        {
            builder.SetApplicationName(applicationName);
            // Every key written later (the first, each one rolled every 90 days) is tightened as it is written.
            builder.Services.Configure<KeyManagementOptions>(options =>
                options.XmlRepository = new TighteningRepository(new FileSystemXmlRepository(directory, NullLoggerFactory.Instance), folder));
            if (OperatingSystem.IsWindows()) builder.ProtectKeysWithDpapi();
        });
    }

    /// <summary>The folder's repository, whose key files are made the owner's alone as soon as one is written.</summary>
    private sealed class TighteningRepository(IXmlRepository inner, string folder) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements() => inner.GetAllElements();

        public void StoreElement(XElement element, string friendlyName)
        {
            inner.StoreElement(element, friendlyName);
            PrivateFiles.TightenFiles(folder);
        }
    }
}
