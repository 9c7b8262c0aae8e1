using System.Security.Cryptography;
using System.Runtime.ExceptionServices;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace O8Actors.Accounts;

/// <summary>
/// A Data Protection key ring in a folder of its own, as the file token store and the persistence store keep it: the
/// folder 0700 and every key file 0600 on Linux and macOS; on Windows, for a key ring of one user on one machine, each key
/// is encrypted with DPAPI (the user's), since a key ring in an explicit folder is otherwise written in plain text there.
/// </summary>
/// <remarks>
/// A folder the app named for a server's store is treated as the app's: tightening it is best effort (a key ring mounted
/// read-only, a Kubernetes secret, or owned by another account still starts) and its keys get no DPAPI, since several
/// machines may share it and a key one machine's user encrypted would not read on the others. O8Actors' own folders are
/// tightened or the start fails.
/// </remarks>
internal static class PrivateKeyRing
{
    /// <summary>The provider over the key ring in <paramref name="folder"/>, created (or tightened) here.</summary>
    /// <param name="folder">The key ring's folder.</param>
    /// <param name="applicationName">Data Protection's application name (isolates this key ring's purposes).</param>
    /// <param name="namedByTheApp">A server's key ring in a folder the app chose, which a cluster may share.</param>
    /// <param name="openKeyFile">Opens a key file for reading (tests stand in another user's key with it); null: the file system's.</param>
    public static IDataProtectionProvider Create(string folder, string applicationName, bool namedByTheApp = false,
        Func<string, Stream>? openKeyFile = null)
    {
        try
        {
            PrivateFiles.CreateFolder(folder);
            // Key files an older version (or another tool) left with the umask's mode.
            PrivateFiles.TightenFiles(folder);
        }
        catch (Exception e) when (namedByTheApp && e is UnauthorizedAccessException or IOException && Directory.Exists(folder))
        {
            // Not ours to change (read-only, another owner's): used as the app set it up.
        }

        var directory = new DirectoryInfo(folder);
        return new RefusalsUnwrapped(DataProtectionProvider.Create(directory, builder =>
        {
            builder.SetApplicationName(applicationName);
            // Every key written later (the first, each one rolled every 90 days) is tightened as it is written.
            builder.Services.Configure<KeyManagementOptions>(options =>
                options.XmlRepository = new TighteningRepository(new FileSystemXmlRepository(directory, NullLoggerFactory.Instance), folder, namedByTheApp,
                    openKeyFile ?? File.OpenRead));
            if (!namedByTheApp && OperatingSystem.IsWindows()) builder.ProtectKeysWithDpapi();
        }));
    }

    /// <summary>
    /// Protectors that let the key ring's refusal (<see cref="KeyRingKeyUnreadableException"/>) and a key file's I/O
    /// failure through as themselves. Data
    /// Protection wraps a key ring's failure in a <see cref="CryptographicException"/>, which a store takes for a record
    /// that does not decrypt (the account then looks signed out, and its next save goes over a record another process can
    /// still read); unwrapped here once, every store sees the store failing, with the folder and key named.
    /// </summary>
    private sealed class RefusalsUnwrapped(IDataProtectionProvider inner) : IDataProtectionProvider
    {
        public IDataProtector CreateProtector(string purpose) => new Protector(inner.CreateProtector(purpose));

        private sealed class Protector(IDataProtector inner) : IDataProtector
        {
            public IDataProtector CreateProtector(string purpose) => new Protector(inner.CreateProtector(purpose));

            public byte[] Protect(byte[] plaintext) => Unwrapped(inner, plaintext, static (p, data) => p.Protect(data));

            public byte[] Unprotect(byte[] protectedData) => Unwrapped(inner, protectedData, static (p, data) => p.Unprotect(data));

            // The lambdas are static, so the compiler caches them: no delegate is allocated per call.
            private static byte[] Unwrapped(IDataProtector protector, byte[] data, Func<IDataProtector, byte[], byte[]> operation)
            {
                try
                {
                    return operation(protector, data);
                }
                catch (CryptographicException e) when (e.InnerException is KeyRingKeyUnreadableException or IOException)
                {
                    // A key file that could not be read (a disk error, a handle limit, a file held open elsewhere, a link
                    // to nothing) fails the store like any disk failure; taken for a record that does not decrypt, it made
                    // every account read as signed out and a sign-out remove tokens it never revoked.
                    ExceptionDispatchInfo.Throw(e.InnerException);
                    throw;
                }
            }
        }
    }

    /// <summary>
    /// The folder's repository, whose key files are made the owner's alone and written to the disk as soon as one is
    /// written, and whose unreadable key files are passed over.
    /// </summary>
    private sealed class TighteningRepository(IXmlRepository inner, string folder, bool namedByTheApp, Func<string, Stream> openKeyFile) : IXmlRepository
    {
        /// <summary>
        /// Every key file, read as Data Protection reads them, except one that is no XML (empty after a power loss right
        /// after it was written) or, in O8Actors' own folder, that this user may not read (another user's after a
        /// <c>sudo</c> run): read by Data Protection, it failed the whole key ring, every stored account then read as
        /// signed out and every save threw. Only what that one key protected is lost. Any other failure to read (a file
        /// held open elsewhere, a disk error) still fails the ring: passing over a key that exists would make a new one
        /// and orphan what it protects. So does an unreadable key in a folder the app named, which processes of other
        /// users share (a cluster's nodes): passed over, each would make a key the others cannot read, and read their
        /// tokens as absent, signed out in silence (<see cref="KeyRingKeyUnreadableException"/>).
        /// </summary>
        public IReadOnlyCollection<XElement> GetAllElements()
        {
            if (!Directory.Exists(folder)) return [];
            var elements = new List<XElement>();
            foreach (var file in KeyFiles())
            {
                try
                {
                    // A stream, not the path: XElement.Load(string) takes a URI, which changes some paths ("%41").
                    using var stream = openKeyFile(file);
                    elements.Add(XElement.Load(stream));
                }
                catch (UnauthorizedAccessException e) when (namedByTheApp)
                {
                    throw new KeyRingKeyUnreadableException(folder, Path.GetFileName(file), e);
                }
                catch (Exception e) when (e is System.Xml.XmlException or UnauthorizedAccessException)
                {
                    // Passed over (see above).
                }
            }

            return elements;
        }

        /// <summary>The folder's key files; a folder the app named that this process may not list is refused as an unreadable key is.</summary>
        private List<string> KeyFiles()
        {
            try
            {
                return Directory.EnumerateFiles(folder, "*.xml").ToList();
            }
            catch (UnauthorizedAccessException e) when (namedByTheApp)
            {
                throw new KeyRingKeyUnreadableException(folder, null, e);
            }
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            inner.StoreElement(element, friendlyName);
            try
            {
                PrivateFiles.TightenFiles(folder);
            }
            catch (Exception e) when (namedByTheApp && e is UnauthorizedAccessException or IOException)
            {
                // Another owner's files in a shared folder: the key just written is this process's, and was tightened
                // before the failure reached the others' (files are tightened one by one).
            }

            // On the disk before a token it protects is: the token files are flushed with their folder (FolderSync), and
            // a key file lost to a power loss after them leaves tokens nothing can open.
            WriteThrough(Path.Combine(folder, friendlyName + ".xml"));
            FolderSync.Flush(folder);
        }

        private static void WriteThrough(string file)
        {
            try
            {
                using var written = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
                written.Flush(flushToDisk: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort, as the folder's flush: the key is written, only its durability is not assured.
            }
        }
    }
}
