using O8Actors.Accounts;

namespace O8Actors.Tests.Accounts;

/// <summary>A key ring's keys that this process may not read: passed over in O8Actors' own folder, refused in one the app named.</summary>
public sealed class PrivateKeyRingTests : IDisposable
{
    private const string Application = "O8Actors.Tests";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-key-ring-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    /// <summary>
    /// Two nodes of a cluster share the key ring folder the app named, but run as different users: each one's key is its
    /// owner's alone (Data Protection writes it 0600). The node that may not read the other's key fails its store call,
    /// naming the cause, and writes no key of its own. Before, it passed the key over, made its own (which the other
    /// could not read either), and from then on each read the other's tokens as absent: accounts signed out in silence,
    /// their next login stored over a record whose refresh token nobody revoked. (A test run as root reads every file,
    /// so the other user's key is played by the key ring's file opener.)
    /// </summary>
    [Fact]
    public void A_key_this_process_may_not_read_in_a_folder_the_app_named_fails_the_store_instead_of_making_a_key_of_its_own()
    {
        var payload = PrivateKeyRing.Create(_folder, Application, namedByTheApp: true).CreateProtector("tokens").Protect([1, 2, 3]);
        var theirs = Assert.Single(Directory.GetFiles(_folder, "*.xml"));

        var ours = PrivateKeyRing.Create(_folder, Application, namedByTheApp: true, openKeyFile: AnotherUsers(theirs)).CreateProtector("tokens");

        var cause = Assert.Throws<KeyRingKeyUnreadableException>(() => ours.Protect([4]));
        Assert.Contains(Path.GetFileName(theirs), cause.Message, StringComparison.Ordinal);
        Assert.Throws<KeyRingKeyUnreadableException>(() => ProtectedRecords.Open<object>(ours, payload, "the test record"));
        Assert.Single(Directory.GetFiles(_folder, "*.xml"));
    }

    /// <summary>O8Actors' own folder (one user's): a key left by a <c>sudo</c> run is passed over, and the ring goes on with a new key.</summary>
    [Fact]
    public void A_key_this_process_may_not_read_in_its_own_folder_is_passed_over()
    {
        PrivateKeyRing.Create(_folder, Application).CreateProtector("tokens").Protect([1, 2, 3]);
        var roots = Assert.Single(Directory.GetFiles(_folder, "*.xml"));

        var ours = PrivateKeyRing.Create(_folder, Application, openKeyFile: AnotherUsers(roots)).CreateProtector("tokens");

        Assert.Equal([4], ours.Unprotect(ours.Protect([4])));
        Assert.Equal(2, Directory.GetFiles(_folder, "*.xml").Length);
    }

    /// <summary>
    /// A key file that cannot be read for a moment (a disk error, no file handles left, a backup tool holding it open, a
    /// link to a file that is gone) fails the ring. Data Protection wraps that in a CryptographicException, which the
    /// stores took for a record that does not decrypt: every account read as signed out, and a sign-out removed the
    /// tokens without revoking them. The store fails now with the I/O error, as for any other disk failure.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_key_file_that_cannot_be_read_fails_the_store_instead_of_reading_records_as_absent(bool namedByTheApp)
    {
        var payload = PrivateKeyRing.Create(_folder, Application, namedByTheApp).CreateProtector("tokens").Protect([1, 2, 3]);
        var key = Assert.Single(Directory.GetFiles(_folder, "*.xml"));
        Func<string, Stream> diskError = file => file == key ? throw new IOException("Input/output error") : File.OpenRead(file);

        var ours = PrivateKeyRing.Create(_folder, Application, namedByTheApp, openKeyFile: diskError).CreateProtector("tokens");

        Assert.Equal("Input/output error", Assert.Throws<IOException>(() => ProtectedRecords.Open<object>(ours, payload, "the test record")).Message);
        Assert.Throws<IOException>(() => ours.Protect([4]));
        Assert.Single(Directory.GetFiles(_folder, "*.xml"));
    }

    private static Func<string, Stream> AnotherUsers(string keyFile) => file =>
        file == keyFile ? throw new UnauthorizedAccessException($"Access to the path '{file}' is denied.") : File.OpenRead(file);
}
