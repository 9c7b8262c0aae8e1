using O8Actors.Accounts;

namespace O8Actors.Tests.Accounts;

/// <summary>The pass that makes a key ring's files the owner's alone, and the locks that must keep a second holder out.</summary>
public sealed class PrivateFilesTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-private-files-" + Guid.NewGuid().ToString("N"));

    public PrivateFilesTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// With .NET's file locking off (<c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>, played here by an opener that shares the
    /// file) every holder got the "exclusive" lock without a word, and two processes refreshed one account with the same
    /// refresh token. The first lock in a folder is checked by a second opener, which must be refused.
    /// </summary>
    [Fact]
    public void A_lock_that_does_not_keep_a_second_holder_out_is_refused_naming_the_switch()
    {
        var path = Path.Combine(_folder, "account.lock");
        var opened = new List<FileStream>();
        FileStream Unlocked(string file)
        {
            var stream = new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            opened.Add(stream);
            return stream;
        }

        var refused = Assert.Throws<IOException>(() => PrivateFiles.OpenExclusiveLock(path, Unlocked));

        Assert.Contains("DOTNET_SYSTEM_IO_DISABLEFILELOCKING", refused.Message);
        Assert.False(PrivateFiles.IsLockedElsewhere(refused), "a refusal no wait would cure, not contention");
        Assert.All(opened, stream => Assert.False(stream.CanRead, "every stream it opened was closed"));
    }

    [Fact]
    public void Where_locks_are_in_force_the_exclusive_lock_is_held_and_a_second_opener_is_refused()
    {
        var path = Path.Combine(_folder, "account.lock");

        using var held = PrivateFiles.OpenExclusiveLock(path);

        var second = Assert.ThrowsAny<IOException>(() => PrivateFiles.OpenLock(path));
        Assert.True(PrivateFiles.IsLockedElsewhere(second));
    }

    /// <summary>
    /// A file listed and then gone before its mode is read (another process's key written as a temporary file and renamed
    /// meanwhile) is passed over, and the files after it are tightened. Before, the pass threw FileNotFoundException
    /// naming the temporary file, which failed the store call, or the creation of a key already written.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_file_gone_since_the_listing_is_passed_over_and_the_others_are_tightened()
    {
        const UnixFileMode open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        var before = Path.Combine(_folder, "key-a.xml");
        var after = Path.Combine(_folder, "key-b.xml");
        foreach (var file in new[] { before, after })
        {
            File.WriteAllText(file, "<key />");
            File.SetUnixFileMode(file, open);
        }

        PrivateFiles.TightenFiles([before, Path.Combine(_folder, "renamed-meanwhile.tmp"), after]);

        Assert.Equal(PrivateFiles.File, File.GetUnixFileMode(before));
        Assert.Equal(PrivateFiles.File, File.GetUnixFileMode(after));
    }
}
