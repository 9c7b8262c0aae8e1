using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using O8Actors.Accounts;

namespace O8Actors;

/// <summary>
/// The desktop and CLI token store: one encrypted file per account in the user's data folder, a folder per app
/// (<see cref="DefaultFolder"/>), so a second run of the app finds its account and needs no browser.
/// </summary>
/// <remarks>
/// <para><b>One folder per app.</b> Files are named by the account (provider and key), so apps sharing a folder share
/// accounts: two CLI tools using the <c>github</c> preset with the key <c>default</c> would read and overwrite each
/// other's tokens. The default folder is therefore the app's own (named after the entry assembly, or
/// <see cref="ForApp"/>'s id). The folder all apps shared before (<c>o8actors/tokens</c>) is not read: its accounts sign
/// in once more, or an app passes that folder to the constructor to keep using it. It is never copied: a copy of a live
/// refresh token in two folders, outside one file lock, would be spent twice, and a provider that detects the replay
/// revokes the grant.</para>
/// <para><b>At rest.</b> Each file is the account's tokens as JSON, encrypted and authenticated by ASP.NET Core Data
/// Protection, whose key ring lives in the <c>keys</c> folder beside them. No token is on disk in plain text. The folders
/// are mode 0700 and every file 0600 (Linux and macOS, an existing folder tightened too), so only the user can read them.
/// On Windows each key of the ring is encrypted with DPAPI under the user's account (keys written before O8Actors did so
/// stay readable as they are until they roll, every 90 days). What protects what: on Linux and macOS the key ring is plain
/// XML guarded by the file modes alone, so a backup or copy of the whole folder holds the tokens and the key to read them;
/// only a copy of the token files without the <c>keys</c> folder (or a log that quotes a file) reveals nothing. On Windows
/// a copy of the folder needs the user's DPAPI secrets as well (their profile) to be read. No platform defends against
/// code running as the user.</para>
/// <para><b>Two processes.</b> Several processes of the same user may share the folder. A write is a compare-and-set on the
/// account's version under a short file lock (<c>.wlock</c>), written to a temporary file and renamed over the old one
/// (readers see the old or the new file, never half of one). Around a refresh the account holds a second file lock
/// (<c>.lock</c>, <see cref="LockAsync"/>): the other process waits, then reads the rotated token instead of spending the
/// old refresh token again. A version check alone would keep the older token from overwriting the newer one, but the
/// second refresh would still reach the provider with a spent refresh token, and a provider with replay detection then
/// revokes the whole family; the lock keeps that request from being sent.</para>
/// <para>A file that cannot be decrypted (its key ring was deleted) reads as no tokens: the account signs in again. Any
/// save replaces such a file, whatever version it expected: the tokens a refresh has just been issued (the stored
/// refresh token spent) are stored over it, not dropped because the file turned unreadable after it was read. A file that
/// decrypts but is of a format this version does not read (a newer version of O8Actors wrote it, and the app was then
/// downgraded) is not taken for absent: loading or saving the account throws <see cref="StoredTokensUnreadableException"/>
/// and the file stays until the account signs out; <see cref="ListAsync"/> leaves it out (its account is inside it), as it
/// does a file this process may not open. A
/// folder deleted while the app runs is created again (mode 0700, a new key ring) by the next call.</para>
/// </remarks>
public sealed class FileTokenStore : ITokenStore
{
    private static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(25);
    private readonly Lock _gate = new();
    private readonly string _keys;
    private IDataProtector? _protector;

    /// <summary>
    /// A store in <paramref name="folder"/>, created (mode 0700) with its key ring on first use: an app that never
    /// signs in touches nothing on disk.
    /// </summary>
    /// <param name="folder">The folder; null for <see cref="DefaultFolder"/> (this app's).</param>
    public FileTokenStore(string? folder = null)
        : this(folder, null)
    {
    }

    /// <summary>A store whose token files are opened by <paramref name="openTokenFile"/> (tests: a file another user owns, played as root).</summary>
    internal FileTokenStore(string? folder, Func<string, FileStream>? openTokenFile)
    {
        Folder = Path.GetFullPath(string.IsNullOrWhiteSpace(folder) ? DefaultFolder : folder);
        _keys = Path.Combine(Folder, "keys");
        _openTokenFile = openTokenFile ?? OpenTokenFile;
    }

    private readonly Func<string, FileStream> _openTokenFile;

    // FileShare.Delete: on Windows a reader without it makes another process's rename over this file (a save) fail; on
    // Unix sharing modes do not apply to a rename.
    private static FileStream OpenTokenFile(string file) =>
        new(file, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096, useAsync: true);

    /// <summary>
    /// The store of the app <paramref name="appId"/> in the user's data folder (<see cref="DefaultFolderFor"/>): for an app
    /// whose entry assembly name is not what names it (several tools in one assembly, a renamed app keeping its tokens).
    /// </summary>
    /// <param name="appId">One folder name: no path separators.</param>
    /// <exception cref="ArgumentException">The app id is empty or is not a single folder name.</exception>
    public static FileTokenStore ForApp(string appId) => new(DefaultFolderFor(appId));

    /// <summary>
    /// The protector, after creating the folders and the key ring on first use, and again when the folder was deleted
    /// while the app runs (the store then starts afresh, with a new key ring, instead of failing until a restart).
    /// </summary>
    private IDataProtector Protector
    {
        get
        {
            // The keys folder is inside the store's folder: one check covers both.
            if (Volatile.Read(ref _protector) is { } protector && Directory.Exists(_keys)) return protector;
            lock (_gate)
            {
                if (_protector is not null && Directory.Exists(_keys)) return _protector;
                PrivateFiles.CreateFolder(Folder);
                var provider = PrivateKeyRing.Create(_keys, "O8Actors.Tokens");
                Volatile.Write(ref _protector, provider.CreateProtector("O8Actors.Tokens.v1"));
                return _protector!;
            }
        }
    }

    /// <summary>Creates the folders and the key ring if this is the first use (or they were deleted since).</summary>
    private void EnsureCreated() => _ = Protector;

    /// <summary>
    /// This app's folder: <see cref="DefaultFolderFor"/> the entry assembly's name
    /// (<c>$XDG_DATA_HOME/o8actors/apps/&lt;app&gt;/tokens</c>, else <c>~/.local/share/…</c>; LocalApplicationData on Windows
    /// and macOS); the folder all apps shared, <c>o8actors/tokens</c>, when there is no entry assembly.
    /// </summary>
    public static string DefaultFolder => TokenFolders.DefaultAppId is { } app ? TokenFolders.Of(app) : TokenFolders.Shared;

    /// <summary>The folder of the app <paramref name="appId"/>: <c>o8actors/apps/&lt;appId&gt;/tokens</c> in the user's data folder.</summary>
    /// <param name="appId">One folder name: no path separators.</param>
    /// <exception cref="ArgumentException">The app id is empty or is not a single folder name.</exception>
    public static string DefaultFolderFor(string appId) => TokenFolders.Of(appId);

    /// <summary>The folder in use.</summary>
    public string Folder { get; }

    /// <inheritdoc />
    public async Task<StoredTokens?> LoadAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        EnsureCreated();
        var record = await ReadAsync(FileOf(account), cancellationToken).ConfigureAwait(false);
        return record is null || record.Provider != account.Provider || record.Key != account.Key ? null : record.ToStored();
    }

    /// <inheritdoc />
    public async Task<long?> SaveAsync(OAuthAccount account, TokenSet tokens, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(tokens);
        EnsureCreated();
        var file = FileOf(account);
        await using var writing = await FileLock.AcquireAsync(file + ".wlock", cancellationToken).ConfigureAwait(false);
        var (record, unreadable) = await ReadRecordAsync(file, cancellationToken).ConfigureAwait(false);
        // A file that does not decrypt holds nothing any process of this folder can use (they share its key ring), and
        // its version is inside the encryption: it is replaced whatever version the save expected. Refused, a refresh's
        // rotated tokens would be dropped for a file that reads as nothing (the account signed out, the grant spent).
        if (!unreadable && (record?.Version ?? 0) != expectedVersion) return null;
        var version = expectedVersion + 1;
        var payload = Protector.Protect(JsonSerializer.SerializeToUtf8Bytes(TokenRecord.From(account, tokens, version)));
        var temporary = $"{file}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var stream = new FileStream(temporary, PrivateWrite()))
            {
                await stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
                // The content on the disk before the rename: a file system that may order the rename first (XFS, ext4
                // without auto_da_alloc) would otherwise leave an empty file after a power loss, read as "no tokens".
                // Off the caller's thread: an fsync may take a while, and the caller is an account's actor.
                await Task.Run(() => stream.Flush(flushToDisk: true), cancellationToken).ConfigureAwait(false);
            }

            File.Move(temporary, file, overwrite: true);
            // Then the rename itself: until the folder is written, a power loss brings back the previous file, whose
            // refresh token the provider may already have rotated away. Not cancellable: the rename has been made.
            await Task.Run(() => FolderSync.Flush(Folder), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }

        return version;
    }

    /// <inheritdoc />
    public async Task RemoveAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        EnsureCreated();
        var file = FileOf(account);
        await using var writing = await FileLock.AcquireAsync(file + ".wlock", cancellationToken).ConfigureAwait(false);
        File.Delete(file);
        // A save that died between writing its temporary file and the rename left the newest tokens in it, encrypted
        // beside the key ring that reads them. Under the write lock no save of this account has one in flight.
        // Best effort: the account's tokens are gone already, and a handle another program holds on a stale one (a virus
        // scanner on Windows) must not fail the sign-out.
        foreach (var temporary in Directory.EnumerateFiles(Folder, Path.GetFileName(file) + ".*.tmp"))
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the next sign-out of the account; it is encrypted like the token file.
            }
        }
        // A signed-out account's tokens must not come back after a power loss.
        await Task.Run(() => FolderSync.Flush(Folder), CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OAuthAccount>> ListAsync(string? provider = null, CancellationToken cancellationToken = default)
    {
        EnsureCreated();
        var accounts = new List<OAuthAccount>();
        foreach (var file in Directory.EnumerateFiles(Folder, "*.token"))
        {
            TokenRecord? record;
            try
            {
                record = await ReadAsync(file, cancellationToken).ConfigureAwait(false);
            }
            catch (StoredTokensUnreadableException)
            {
                // Its account is inside what does not read: it cannot be listed, and it must not fail the list of the others.
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                // A file this process may not open (another user's, in a folder two apps share) is passed over as one that
                // does not decrypt is. Any other failure to read (a disk error, no file handles left, the key ring) fails
                // the list: an account left out in silence would be taken for one not signed in (a back-channel logout
                // of its session would then sign nobody out and answer the provider 200).
                continue;
            }

            if (record is null) continue;
            if (provider is null || record.Provider == provider) accounts.Add(new OAuthAccount(record.Provider, record.Key));
        }

        return accounts.OrderBy(a => a.Id, StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> LockAsync(OAuthAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        EnsureCreated();
        return await FileLock.AcquireAsync(FileOf(account) + ".lock", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The account's file: a hash of its id, so the name says nothing about the person and needs no escaping.</summary>
    private string FileOf(OAuthAccount account) =>
        Path.Combine(Folder, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(account.Id))) + ".token");

    private async Task<TokenRecord?> ReadAsync(string file, CancellationToken cancellationToken) =>
        (await ReadRecordAsync(file, cancellationToken).ConfigureAwait(false)).Record;

    /// <summary>The file's record; null when there is none, with <c>Unreadable</c> when there is a file that does not decrypt.</summary>
    /// <exception cref="StoredTokensUnreadableException">The file decrypts but is of a format this version does not read.</exception>
    private async Task<(TokenRecord? Record, bool Unreadable)> ReadRecordAsync(string file, CancellationToken cancellationToken)
    {
        byte[] payload;
        try
        {
            await using var stream = _openTokenFile(file);
            payload = new byte[stream.Length];
            await stream.ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, false);
        }

        // No format number: written before records carried one, in this format.
        var record = ProtectedRecords.Open<TokenRecord>(Protector, payload, $"the token file {Path.GetFileName(file)}",
            r => r.Format is null or TokenRecord.CurrentFormat);
        return (record, record is null);
    }

    private static FileStreamOptions PrivateWrite()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = PrivateFiles.File;
        return options;
    }

    /// <summary>
    /// What one file holds (inside the encryption), format 1. <c>Format</c> is absent in records written before it was
    /// added, <c>DpopKey</c> in those written before DPoP. A later version that changes the record writes another format
    /// number, which this one refuses to read even when the fields happen to parse: read with this record's meaning, a
    /// newer record's tokens could be served wrong or, taken for absent, written over.
    /// </summary>
    private sealed record TokenRecord(
        string Provider, string Key, long Version, string AccessToken, string TokenType, DateTimeOffset? ExpiresAt,
        string? RefreshToken, string? Scope, string? IdToken, StoredClaims? Claims, string? DpopKey = null, int? Format = null)
    {
        public const int CurrentFormat = 1;

        public static TokenRecord From(OAuthAccount account, TokenSet t, long version) => new(
            account.Provider, account.Key, version, t.AccessToken, t.TokenType, t.ExpiresAt, t.RefreshToken, t.Scope, t.IdToken,
            StoredClaims.From(t.IdTokenClaims), t.DpopKey?.ToJwk(), CurrentFormat);

        public StoredTokens ToStored() => new(new TokenSet(AccessToken, TokenType, ExpiresAt, RefreshToken, Scope, IdToken)
        {
            IdTokenClaims = Claims?.ToClaims(IdToken),
            DpopKey = DpopKey is null ? null : Dpop.DpopKey.FromJwk(DpopKey),
        }, Version);
    }

    /// <summary>
    /// An exclusive lock on a file, between processes and within one: .NET takes an advisory <c>flock</c> for
    /// <see cref="FileShare.None"/> on Unix and a sharing lock on Windows. Held while the stream is open.
    /// </summary>
    private sealed class FileLock(FileStream stream) : IAsyncDisposable
    {
        public static async Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken)
        {
            while (true)
            {
                try
                {
                    return new FileLock(PrivateFiles.OpenExclusiveLock(path));
                }
                catch (IOException e) when (PrivateFiles.IsLockedElsewhere(e))
                {
                    // Still held when the caller gives up: a cancellation (the caller's deadline), not a failure of the disk.
                    cancellationToken.ThrowIfCancellationRequested();
                    // Held by someone else: poll. Holds last a token request at most, so a short poll costs little.
                    await Task.Delay(LockPoll, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e) when (!PrivateFiles.IsLockedElsewhere(e))
                {
                    // A missing folder, a full disk, no permission: polling would wait forever on what is no contention.
                    throw new IOException($"The token store could not open its lock file {path}: {e.Message}", e);
                }
            }
        }

        public ValueTask DisposeAsync() => stream.DisposeAsync();
    }
}
