using Akka.Serialization;
using O8Actors.Persistence.Registers;
using O8Actors.Persistence.Tests.Support;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// What the journal holds and what crosses nodes is written by our serializer, not Akka's default (JSON): every event,
/// snapshot and register message is bound to it and comes back field for field.
/// </summary>
public sealed class TokenRegisterSerializerTests : IAsyncLifetime
{
    private StoreHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await StoreHost.StartOnTemporarySqliteAsync("o8-ser-");

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private T RoundTrip<T>(T message) where T : notnull
    {
        var serialization = _host.System.Serialization;
        var serializer = serialization.FindSerializerFor(message);
        Assert.IsType<TokenRegisterSerializer>(serializer);
        var bytes = serializer.ToBinary(message);
        return Assert.IsType<T>(serialization.Deserialize(bytes, serializer.Identifier, Serialization.ManifestFor(serializer, message)));
    }

    [Fact]
    public void A_truncated_or_newer_event_reads_as_unreadable_and_a_bad_message_still_throws()
    {
        var serialization = _host.System.Serialization;
        var serializer = serialization.FindSerializerFor(new TokensStored(7, [1, 2, 3]));
        var bytes = serializer.ToBinary(new TokensStored(7, [1, 2, 3]));

        var truncated = Assert.IsType<UnreadableRecord>(serialization.Deserialize(bytes[..^2], serializer.Identifier, "ev-stored"));
        Assert.Contains("truncated", truncated.Reason, StringComparison.Ordinal);
        Assert.IsType<UnreadableRecord>(serialization.Deserialize([2, 0], serializer.Identifier, "snap-register"));
        Assert.IsType<UnreadableRecord>(serialization.Deserialize([1], serializer.Identifier, "ev-from-a-newer-version"));
        Assert.ThrowsAny<Exception>(() => serialization.Deserialize([2, 0], serializer.Identifier, "L"));
    }

    [Fact]
    public void An_index_event_or_snapshot_with_a_damaged_string_length_reads_as_unreadable()
    {
        // BinaryReader.ReadString throws FormatException for a length prefix of too many bytes and IOException for a
        // negative one: either must skip the row, not fail the account index's recovery on every start.
        var serialization = _host.System.Serialization;
        var serializer = serialization.FindSerializerFor(new AccountIdChanged("a/b", true));

        var overlong = serialization.Deserialize([1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], serializer.Identifier, "ev-index");
        // One id whose length prefix decodes to -1.
        var negative = serialization.Deserialize([1, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], serializer.Identifier, "snap-index");

        Assert.Contains("damaged", Assert.IsType<UnreadableRecord>(overlong).Reason, StringComparison.Ordinal);
        Assert.Contains("damaged", Assert.IsType<UnreadableRecord>(negative).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Events_and_snapshots_keep_their_version_and_payload()
    {
        byte[] payload = [1, 2, 3, 250];

        var stored = RoundTrip(new TokensStored(7, payload));
        var snapshot = RoundTrip(new TokenRegisterSnapshot(7, payload));
        var empty = RoundTrip(new TokenRegisterSnapshot(0, null));
        var index = RoundTrip(new AccountIndexSnapshot(["a/b", "c/d%2Fe"]));
        var changed = RoundTrip(new AccountIdChanged("a/b", false));

        Assert.Equal(7, stored.Version);
        Assert.Equal(payload, stored.Payload);
        Assert.Equal(7, snapshot.Version);
        Assert.Equal(payload, snapshot.Payload);
        Assert.Null(empty.Payload);
        Assert.Equal(["a/b", "c/d%2Fe"], index.Ids);
        Assert.Equal(new AccountIdChanged("a/b", false), changed);
        Assert.IsType<TokensCleared>(RoundTrip(new TokensCleared()));
    }

    /// <summary>
    /// A register's failure crosses nodes as the exception its caller tells apart: an unreadable record as
    /// <see cref="StoredTokensUnreadableException"/> (a sign-out clears it, the listing's repair passes it over), a
    /// journal failure as <see cref="InvalidOperationException"/>. As a <c>Status.Failure</c> the exception did not survive
    /// Akka.Remote's serializer (it has no serialization constructor), and the caller saw a bare cancellation.
    /// </summary>
    [Fact]
    public void A_registers_failure_crosses_nodes_as_the_exception_its_caller_tells_apart()
    {
        var unreadable = RoundTrip(new RegisterFailed(Unreadable: true, "register 'a/b' does not read")).ToException();
        var journal = RoundTrip(new RegisterFailed(Unreadable: false, "The token journal failed: DbException.")).ToException();

        Assert.Equal("register 'a/b' does not read", Assert.IsType<StoredTokensUnreadableException>(unreadable).Message);
        Assert.Equal("The token journal failed: DbException.", Assert.IsType<InvalidOperationException>(journal).Message);
        // A request no register handled (answered from dead letters, perhaps on another node): told apart from both.
        var unhandled = RoundTrip(UndeliveredRegisterMessages.NotAnswered(new LoadTokens("a/b"))).ToException();
        Assert.Contains("stopped before it handled the request", Assert.IsType<RegisterUnavailableException>(unhandled).Message);
    }

    [Fact]
    public void Register_messages_keep_every_field()
    {
        byte[] payload = [9, 8, 7];

        var save = RoundTrip(new SaveTokens("p/k", payload, 3));
        var loaded = RoundTrip(new TokensLoaded(payload, 4));

        Assert.Equal(("p/k", 3L), (save.EntityId, save.ExpectedVersion));
        Assert.Equal(payload, save.Payload);
        Assert.Equal(payload, loaded.Payload);
        Assert.Equal(4, loaded.Version);
        Assert.Null(RoundTrip(new TokensLoaded(null, 0)).Payload);
        Assert.Equal(new TokensSaved(5), RoundTrip(new TokensSaved(5)));
        Assert.Equal(new TokensSaved(null), RoundTrip(new TokensSaved(null)));
        Assert.Equal(new LoadTokens("p/k"), RoundTrip(new LoadTokens("p/k")));
        Assert.Equal(new EraseTokens("p/k"), RoundTrip(new EraseTokens("p/k")));
        Assert.Equal(new IndexAccount("p/k", true), RoundTrip(new IndexAccount("p/k", true)));
        Assert.Equal(["p/k"], RoundTrip(new AccountIds(["p/k"])).Ids);
        Assert.IsType<ListAccountIds>(RoundTrip(new ListAccountIds()));
        Assert.IsType<AccountIndexed>(RoundTrip(new AccountIndexed()));
        Assert.IsType<TokensErased>(RoundTrip(new TokensErased()));
    }
}
