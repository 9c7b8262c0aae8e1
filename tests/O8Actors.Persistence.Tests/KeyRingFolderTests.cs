using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// The store's own key ring is the user's alone, as the file token store's: the folder 0700 (an existing one tightened)
/// and every key file 0600. (On Windows the keys are encrypted with DPAPI instead, which a Linux test cannot exercise.)
/// </summary>
public sealed class KeyRingFolderTests : IDisposable
{
    private const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-key-ring-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void An_existing_key_ring_folder_open_to_others_is_tightened_and_each_key_written_is_the_users_alone()
    {
        const UnixFileMode open = Owner | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
            UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Directory.CreateDirectory(_folder, open);
        File.SetUnixFileMode(_folder, open);
        // A key file left readable by others (an older version wrote it with the umask's mode).
        var leftOver = Path.Combine(_folder, "key-left-over.xml");
        File.WriteAllText(leftOver, "<left-over />");
        File.SetUnixFileMode(leftOver, Owner | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var provider = KeyRingOf(new O8PersistenceOptions { KeyRingFolder = _folder });
        // The first protection writes the ring's first key.
        provider.CreateProtector("test").Protect([1, 2, 3]);

        Assert.Equal(Owner | UnixFileMode.UserExecute, File.GetUnixFileMode(_folder));
        var keys = Directory.EnumerateFiles(_folder).ToList();
        Assert.Contains(keys, k => k != leftOver);
        foreach (var key in keys)
            Assert.True(File.GetUnixFileMode(key) == Owner, $"{Path.GetFileName(key)} is {File.GetUnixFileMode(key)}");
    }

    /// <summary>
    /// A folder the app names, shared with files this process cannot tighten (another owner's, which a test run as root
    /// cannot make; here links to nothing, which the pass now steps over as files gone since the listing): the new key
    /// does not depend on that pass. Data Protection of .NET 10 writes its key files for the owner alone (checked: 0600
    /// under umask 022); this pins that.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void The_key_written_to_a_shared_folder_is_the_users_alone_whatever_files_come_before_it()
    {
        Directory.CreateDirectory(_folder);
        for (var i = 0; i < 200; i++)
            File.CreateSymbolicLink(Path.Combine(_folder, $"foreign-{i}.lnk"), Path.Combine(_folder, "gone", $"{i}"));

        var provider = KeyRingOf(new O8PersistenceOptions { KeyRingFolder = _folder });
        provider.CreateProtector("test").Protect([1, 2, 3]);

        var key = Assert.Single(Directory.EnumerateFiles(_folder, "*.xml"));
        Assert.Equal(Owner, File.GetUnixFileMode(key));
    }

    private static IDataProtectionProvider KeyRingOf(O8PersistenceOptions options) =>
        O8PersistenceHostingExtensions.DataProtectionFor(options, new ServiceCollection().BuildServiceProvider());
}
