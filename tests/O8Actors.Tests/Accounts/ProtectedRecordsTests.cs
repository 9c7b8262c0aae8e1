using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;
using O8Actors.Accounts;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// How a store reads a record back with the app's own Data Protection (the persistence store's <c>UseAppDataProtection</c>,
/// a cluster's shared key ring): a record that does not decrypt is absent, a key ring that cannot be loaded fails the read.
/// </summary>
public sealed class ProtectedRecordsTests
{
    private sealed record Record(string Value);

    private const string Purpose = "tokens";

    [Fact]
    public void A_key_ring_whose_repository_is_unreachable_fails_the_read_instead_of_reading_the_record_as_absent()
    {
        var keys = new SharedKeys();
        var payload = AppProvider(keys).CreateProtector(Purpose).Protect(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Record("rt-1")));

        // Another node starts while the shared key store (Redis, a database, a share) is briefly away.
        keys.Unreachable = true;
        var starting = AppProvider(keys).CreateProtector(Purpose);
        var thrown = Assert.Throws<IOException>(() => ProtectedRecords.Open<Record>(starting, payload, "the test record"));
        Assert.Equal("the key store is restarting", thrown.Message);

        // Back, the same protector reads it (the ring had never loaded, so it loads now).
        keys.Unreachable = false;
        Assert.Equal("rt-1", ProtectedRecords.Open<Record>(starting, payload, "the test record")?.Value);
    }

    [Fact]
    public void A_record_whose_key_is_gone_or_that_was_tampered_with_reads_as_absent()
    {
        var keys = new SharedKeys();
        var payload = AppProvider(keys).CreateProtector(Purpose).Protect(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Record("rt-1")));

        Assert.Null(ProtectedRecords.Open<Record>(AppProvider(new SharedKeys()).CreateProtector(Purpose), payload, "the test record"));
        var tampered = payload.ToArray();
        tampered[^1] ^= 1;
        Assert.Null(ProtectedRecords.Open<Record>(AppProvider(keys).CreateProtector(Purpose), tampered, "the test record"));
        Assert.Null(ProtectedRecords.Open<Record>(AppProvider(keys).CreateProtector(Purpose), payload[..10], "the test record"));
    }

    /// <summary>
    /// One key of a ring that loads is unusable for good (its decryptor's type is missing on this node, as when another
    /// node wrote it with a Key Vault decryptor): its records read as absent, as a lost key's do, so a sign-in can save
    /// over them; only a ring that cannot load at all fails the read (and with it every save and sign-out).
    /// </summary>
    [Fact]
    public void A_record_under_a_key_this_node_cannot_use_reads_as_absent_while_the_ring_loads()
    {
        var keys = new SharedKeys();
        var payload = AppProvider(keys).CreateProtector(Purpose).Protect(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Record("rt-1")));
        keys.BreakDecryptorOfEveryKey();
        // A key this node can use, made the default by another node since.
        var services = new ServiceCollection();
        services.AddDataProtection().SetApplicationName("o8-protected-records-tests");
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = keys);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IKeyManager>().CreateNewKey(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(90));

        Assert.Null(ProtectedRecords.Open<Record>(AppProvider(keys).CreateProtector(Purpose), payload, "the test record"));
    }

    /// <summary>Data Protection as an app sets it up, over <paramref name="keys"/>.</summary>
    private static IDataProtectionProvider AppProvider(SharedKeys keys)
    {
        var services = new ServiceCollection();
        services.AddDataProtection().SetApplicationName("o8-protected-records-tests");
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = keys);
        return services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>();
    }

    /// <summary>A key repository the nodes share, which can be away for a moment.</summary>
    private sealed class SharedKeys : IXmlRepository
    {
        private readonly List<XElement> _elements = [];

        public bool Unreachable { get; set; }

        public IReadOnlyCollection<XElement> GetAllElements()
        {
            if (Unreachable) throw new IOException("the key store is restarting");
            lock (_elements) return _elements.Select(e => new XElement(e)).ToList();
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            lock (_elements) _elements.Add(new XElement(element));
        }

        /// <summary>Every key stored so far now names a decryptor type this process does not have.</summary>
        public void BreakDecryptorOfEveryKey()
        {
            lock (_elements)
            {
                foreach (var masterKey in _elements.Descendants().Where(e => e.Name.LocalName == "masterKey").ToList())
                    masterKey.ReplaceNodes(new XElement(XName.Get("encryptedSecret", "http://schemas.asp.net/2015/03/dataProtection"),
                        new XAttribute("decryptorType", "Nonexistent.Decryptor, Nonexistent.Assembly"), new XElement("secret", "AAAA")));
            }
        }
    }
}
