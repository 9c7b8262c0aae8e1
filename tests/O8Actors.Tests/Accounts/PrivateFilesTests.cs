using O8Actors.Accounts;

namespace O8Actors.Tests.Accounts;

/// <summary>The pass that makes a key ring's files the owner's alone.</summary>
public sealed class PrivateFilesTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-private-files-" + Guid.NewGuid().ToString("N"));

    public PrivateFilesTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

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
