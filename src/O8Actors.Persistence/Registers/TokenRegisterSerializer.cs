using Akka.Actor;
using Akka.Serialization;

namespace O8Actors.Persistence.Registers;

/// <summary>
/// The wire and journal format of the registers' messages, events and snapshots: a small binary layout of our own
/// (a format byte, then length-prefixed fields), not Akka's default serializer, so what is in the database is
/// defined here and stays readable across versions of Akka and of .NET. Payloads are opaque bytes, already encrypted.
/// </summary>
/// <remarks>Manifests are short fixed strings; a new field means a new format byte, never a change to an old one.</remarks>
internal sealed class TokenRegisterSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>The serializer's id ("O8" + 1): unique among the actor system's serializers.</summary>
    public const int Id = 7981;

    private const byte Format = 1;

    /// <summary>Every type this serializer writes (for the serialization bindings).</summary>
    public static readonly IReadOnlyList<Type> Types =
    [
        typeof(LoadTokens), typeof(TokensLoaded), typeof(SaveTokens), typeof(TokensSaved), typeof(EraseTokens),
        typeof(TokensErased), typeof(ListAccountIds), typeof(AccountIds), typeof(IndexAccount), typeof(AccountIndexed),
        typeof(TokensStored), typeof(TokensCleared), typeof(TokenRegisterSnapshot), typeof(AccountIdChanged),
        typeof(AccountIndexSnapshot), typeof(RegisterFailed), typeof(RegisterUnavailable),
    ];

    /// <inheritdoc />
    public override int Identifier => Id;

    /// <inheritdoc />
    public override string Manifest(object o) => o switch
    {
        LoadTokens => "L",
        TokensLoaded => "LR",
        SaveTokens => "S",
        TokensSaved => "SR",
        EraseTokens => "E",
        TokensErased => "ER",
        ListAccountIds => "I",
        AccountIds => "IR",
        IndexAccount => "X",
        AccountIndexed => "XR",
        RegisterFailed => "F",
        RegisterUnavailable => "U",
        TokensStored => "ev-stored",
        TokensCleared => "ev-cleared",
        TokenRegisterSnapshot => "snap-register",
        AccountIdChanged => "ev-index",
        AccountIndexSnapshot => "snap-index",
        _ => throw new ArgumentException($"{nameof(TokenRegisterSerializer)} cannot serialize {o.GetType().Name}.", nameof(o)),
    };

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            w.Write(Format);
            switch (obj)
            {
                case LoadTokens m: w.Write(m.EntityId); break;
                case TokensLoaded m: WriteBytes(w, m.Payload); w.Write(m.Version); break;
                case SaveTokens m: w.Write(m.EntityId); WriteBytes(w, m.Payload); w.Write(m.ExpectedVersion); break;
                case TokensSaved m: w.Write(m.Version.HasValue); w.Write(m.Version ?? 0); break;
                case EraseTokens m: w.Write(m.EntityId); break;
                case TokensErased or ListAccountIds or AccountIndexed or TokensCleared: break;
                case AccountIds m: WriteStrings(w, m.Ids); break;
                case IndexAccount m: w.Write(m.AccountId); w.Write(m.Listed); break;
                case TokensStored m: w.Write(m.Version); WriteBytes(w, m.Payload); break;
                case TokenRegisterSnapshot m: w.Write(m.Version); WriteBytes(w, m.Payload); break;
                case AccountIdChanged m: w.Write(m.AccountId); w.Write(m.Listed); break;
                case AccountIndexSnapshot m: WriteStrings(w, m.Ids); break;
                case RegisterFailed m: w.Write(m.Unreadable); w.Write(m.Message); break;
                case RegisterUnavailable m: w.Write(m.Message); break;
                default: throw new ArgumentException($"{nameof(TokenRegisterSerializer)} cannot serialize {obj.GetType().Name}.", nameof(obj));
            }
        }

        return buffer.ToArray();
    }

    /// <inheritdoc />
    /// <remarks>
    /// An event or snapshot that does not read becomes an <see cref="UnreadableRecord"/> rather than an exception: a
    /// failed recovery would stop the register and drop its callers' messages (each then waited for its Ask timeout).
    /// </remarks>
    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            return Read(bytes, manifest);
        }
        // BinaryReader.ReadString throws FormatException (a length prefix of too many bytes) or IOException (a negative
        // length) on a damaged row, as ReadInt32 and the like throw EndOfStreamException (an IOException) on a short one.
        catch (Exception e) when (IsStored(manifest) && e is System.Runtime.Serialization.SerializationException or IOException or FormatException)
        {
            return new UnreadableRecord(e switch
            {
                EndOfStreamException => $"a truncated '{manifest}' record",
                System.Runtime.Serialization.SerializationException => e.Message,
                // The reader's own text says nothing more (and never anything of the payload).
                _ => $"a damaged '{manifest}' record ({e.GetType().Name})",
            });
        }
    }

    /// <summary>Whether <paramref name="manifest"/> names a journal event or a snapshot (ours or a newer version's).</summary>
    private static bool IsStored(string manifest) =>
        manifest.StartsWith("ev-", StringComparison.Ordinal) || manifest.StartsWith("snap-", StringComparison.Ordinal);

    private static object Read(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        var format = r.ReadByte();
        if (format != Format) throw new System.Runtime.Serialization.SerializationException($"Unknown token register format {format}.");
        return manifest switch
        {
            "L" => new LoadTokens(r.ReadString()),
            "LR" => new TokensLoaded(ReadBytes(r), r.ReadInt64()),
            "S" => new SaveTokens(r.ReadString(), ReadBytes(r) ?? [], r.ReadInt64()),
            "SR" => ReadSaved(r),
            "E" => new EraseTokens(r.ReadString()),
            "ER" => new TokensErased(),
            "I" => new ListAccountIds(),
            "IR" => new AccountIds(ReadStrings(r)),
            "X" => new IndexAccount(r.ReadString(), r.ReadBoolean()),
            "XR" => new AccountIndexed(),
            "F" => new RegisterFailed(r.ReadBoolean(), r.ReadString()),
            "U" => new RegisterUnavailable(r.ReadString()),
            "ev-stored" => new TokensStored(r.ReadInt64(), ReadBytes(r) ?? []),
            "ev-cleared" => new TokensCleared(),
            "snap-register" => new TokenRegisterSnapshot(r.ReadInt64(), ReadBytes(r)),
            "ev-index" => new AccountIdChanged(r.ReadString(), r.ReadBoolean()),
            "snap-index" => new AccountIndexSnapshot(ReadStrings(r)),
            _ => throw new System.Runtime.Serialization.SerializationException($"Unknown token register manifest '{manifest}'."),
        };
    }

    private static TokensSaved ReadSaved(BinaryReader r)
    {
        var has = r.ReadBoolean();
        var version = r.ReadInt64();
        return new TokensSaved(has ? version : null);
    }

    private static void WriteBytes(BinaryWriter w, byte[]? bytes)
    {
        w.Write(bytes?.Length ?? -1);
        if (bytes is not null) w.Write(bytes);
    }

    private static byte[]? ReadBytes(BinaryReader r)
    {
        var length = r.ReadInt32();
        if (length < 0) return null;
        // A damaged length must not allocate gigabytes: it cannot be longer than what is left.
        if (length > r.BaseStream.Length - r.BaseStream.Position) throw new EndOfStreamException();
        return r.ReadBytes(length);
    }

    private static void WriteStrings(BinaryWriter w, IReadOnlyList<string> values)
    {
        w.Write(values.Count);
        foreach (var value in values) w.Write(value);
    }

    private static IReadOnlyList<string> ReadStrings(BinaryReader r)
    {
        var count = r.ReadInt32();
        if (count < 0 || count > r.BaseStream.Length - r.BaseStream.Position) throw new EndOfStreamException();
        var values = new string[count];
        for (var i = 0; i < values.Length; i++) values[i] = r.ReadString();
        return values;
    }
}
