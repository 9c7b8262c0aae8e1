using System.Runtime.InteropServices;

namespace O8Actors.Accounts;

/// <summary>
/// Makes a rename inside a folder durable: on Linux and macOS a rename is a change of the folder, written to the disk
/// when the file system next commits (ext4: up to 5 s later), so a power loss right after a save brought back the
/// previous file. For tokens that is a spent refresh token when the provider rotates them: the next refresh is refused
/// (and, with reuse detection, the provider revokes the whole grant). An <c>fsync</c> of the folder writes the rename
/// down before the save returns. Windows needs none: NTFS journals the rename with the file's metadata.
/// </summary>
internal static class FolderSync
{
    private const int ReadOnly = 0; // O_RDONLY: the same value on Linux and macOS; a folder opens read-only.

    /// <summary>
    /// Writes the folder's entries to the disk. Best effort: false where the platform or the file system cannot
    /// (Windows, a file system without folder fsync such as some network mounts), never an exception, since the file's
    /// content is already on the disk and the rename has been made.
    /// </summary>
    public static bool Flush(string folder)
    {
        if (OperatingSystem.IsWindows()) return false;
        var descriptor = Open(folder, ReadOnly);
        if (descriptor < 0) return false;
        try
        {
            return Fsync(descriptor) == 0;
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int descriptor);
}
