namespace O8Actors.Accounts;

/// <summary>
/// Owner-only folders and files on Linux and macOS (0700 and 0600), for what holds tokens or the keys that encrypt them:
/// the file token store's folder and the key rings of both stores. On Windows a new folder inherits its parent's ACL (a
/// user's LocalApplicationData is the user's alone), and nothing here changes it.
/// </summary>
internal static class PrivateFiles
{
    /// <summary>Read and write for the owner only.</summary>
    public const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Read, write and enter for the owner only.</summary>
    public const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="path"/> (and its missing parents) as the owner's alone; an existing folder is tightened.</summary>
    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, Folder);
        // An existing folder keeps its mode (one made by an older version, or by hand): tighten it.
        System.IO.File.SetUnixFileMode(path, Folder);
    }

    /// <summary>
    /// Opens (creating it, the owner's alone) the lock file <paramref name="path"/> for this process alone: <c>flock</c> on
    /// Unix, a sharing lock on Windows, both dropped by the operating system when the process ends. Held elsewhere, it
    /// throws an <see cref="IOException"/> that <see cref="IsLockedElsewhere"/> recognises.
    /// </summary>
    public static FileStream OpenLock(string path) => new(path, LockOptions());

    private static FileStreamOptions LockOptions()
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = File;
        return options;
    }

    /// <summary>
    /// <see cref="OpenLock"/> for a lock that must keep a second holder out (an account's refresh, a token file's write, a
    /// token database's one process): the first lock taken in a folder is checked by opening it once more, which must be
    /// refused. With .NET's file locking off (<c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>, <c>System.IO.DisableFileLocking</c>,
    /// set to work around sharing errors on network shares) or a file system without <c>flock</c>, every holder got the lock:
    /// two processes refreshed one account with the same refresh token, and a provider that detects reuse revoked the grant.
    /// </summary>
    /// <exception cref="IOException">The lock does not exclude a second holder here (not one <see cref="IsLockedElsewhere"/> recognises).</exception>
    public static FileStream OpenExclusiveLock(string path) => OpenExclusiveLock(path, OpenLock);

    /// <summary><see cref="OpenExclusiveLock(string)"/> with the opening of the lock file given (tests).</summary>
    internal static FileStream OpenExclusiveLock(string path, Func<string, FileStream> open)
    {
        var held = open(path);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "";
        if (ExcludingFolders.ContainsKey(folder)) return held;
        try
        {
            // A second opener while this one holds it: refused where locks are in force.
            open(path).Dispose();
        }
        catch (IOException e) when (IsLockedElsewhere(e))
        {
            ExcludingFolders.TryAdd(folder, 0);
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }

        held.Dispose();
        throw new IOException(
            $"The lock file {path} does not keep a second holder out: file locking is off in this process (the environment variable " +
            "DOTNET_SYSTEM_IO_DISABLEFILELOCKING, or the runtime setting System.IO.DisableFileLocking) or the file system of " +
            $"{folder} does not support it. O8Actors' token stores need it: without it two processes would refresh one account with " +
            "the same refresh token, which a provider that detects reuse answers by revoking the grant. Turn file locking on, or " +
            "keep the tokens on a local disk.");
    }

    // Folders where a second opener of a held lock was refused: checked once each (a store uses one or two folders).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> ExcludingFolders = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether opening a lock file for this process alone (<see cref="FileShare.None"/>) failed because another handle
    /// holds it: <c>EWOULDBLOCK</c> from <c>flock</c> on Unix (11 on Linux, 35 on macOS and the BSDs), a sharing or lock
    /// violation on Windows; not a missing folder, a full disk or a refused permission, which no wait would cure.
    /// </summary>
    public static bool IsLockedElsewhere(IOException e) =>
        e.GetType() == typeof(IOException) && (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 32 or 33 : e.HResult is 11 or 35);

    /// <summary>
    /// Makes every file directly in <paramref name="folder"/> the owner's alone: files written by a library that creates
    /// them with the process's umask (key files left by Data Protection versions that wrote them 0644 under the usual umask 022, or copied in; those of
    /// .NET 10 are written 0600).
    /// </summary>
    public static void TightenFiles(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        TightenFiles(Directory.EnumerateFiles(folder));
    }

    /// <summary>
    /// Makes each of <paramref name="files"/> the owner's alone. One gone since it was listed is passed over: another
    /// process's key being written (Data Protection writes a temporary file and renames it) is no file that cannot be
    /// tightened, and failing on it failed the store call, or a key's creation after the key was written.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static void TightenFiles(IEnumerable<string> files)
    {
        foreach (var file in files)
        {
            try
            {
                if ((System.IO.File.GetUnixFileMode(file) & ~File) != 0) System.IO.File.SetUnixFileMode(file, File);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Gone since the listing (see above), or a link to nothing: nothing there to tighten.
            }
        }
    }
}
