namespace O8Actors.Persistence.Registers;

// The persistent side of the store speaks only in opaque, already-encrypted payloads: a register never sees a token,
// so nothing it journals, snapshots or sends to another node can hold one in plain text.

/// <summary>A message for one register (an account's, or the account index): routed by <see cref="EntityId"/>.</summary>
internal interface ITokenRegisterMessage
{
    /// <summary>The register's id: the account's <see cref="OAuthAccount.Id"/>, or <see cref="AccountIndex.EntityId"/>.</summary>
    string EntityId { get; }
}

/// <summary>Reads the account's register; answered with <see cref="TokensLoaded"/>.</summary>
internal sealed record LoadTokens(string EntityId) : ITokenRegisterMessage;

/// <summary>The register's encrypted payload (null: nothing stored) and its version (0: nothing stored).</summary>
internal sealed record TokensLoaded(byte[]? Payload, long Version);

/// <summary>Stores <paramref name="Payload"/> when the stored version is <paramref name="ExpectedVersion"/>; answered with <see cref="TokensSaved"/>.</summary>
internal sealed record SaveTokens(string EntityId, byte[] Payload, long ExpectedVersion) : ITokenRegisterMessage;

/// <summary>The new version, or null when the stored version was another (refused: someone wrote first).</summary>
internal sealed record TokensSaved(long? Version);

/// <summary>Empties the account's register; answered with <see cref="TokensErased"/>.</summary>
internal sealed record EraseTokens(string EntityId) : ITokenRegisterMessage;

/// <summary>The register is empty.</summary>
internal sealed record TokensErased;

/// <summary>Asks the account index for the ids it holds; answered with <see cref="AccountIds"/>.</summary>
internal sealed record ListAccountIds : ITokenRegisterMessage
{
    /// <inheritdoc />
    public string EntityId => AccountIndex.EntityId;
}

/// <summary>The account ids with stored tokens.</summary>
internal sealed record AccountIds(IReadOnlyList<string> Ids);

/// <summary>Adds (<paramref name="Listed"/>) or removes an account id in the index; answered with <see cref="AccountIndexed"/>.</summary>
internal sealed record IndexAccount(string AccountId, bool Listed) : ITokenRegisterMessage
{
    /// <inheritdoc />
    public string EntityId => AccountIndex.EntityId;
}

/// <summary>The index holds the change.</summary>
internal sealed record AccountIndexed;

/// <summary>
/// A register's answer that it could not do what was asked: its stored state does not read (<paramref name="Unreadable"/>),
/// or the journal failed or refused the write. A message of this serializer rather than a <c>Status.Failure</c>: an
/// exception crossing nodes is rebuilt by Akka.Remote only when it has the old serialization constructor, and without it
/// the caller on another node saw a bare "Task cancelled" (an <see cref="OperationCanceledException"/>), which neither a
/// sign-out (that clears an unreadable record) nor the account listing's repair recognised.
/// </summary>
/// <param name="Unreadable">The stored state does not read (else the journal failed or refused the write).</param>
/// <param name="Message">The error, naming the register and why (a format or an exception's type, never data).</param>
internal sealed record RegisterFailed(bool Unreadable, string Message)
{
    /// <summary>The exception the caller's Ask throws.</summary>
    public Exception ToException() =>
        Unreadable ? new StoredTokensUnreadableException(Message) : new InvalidOperationException(Message);
}

/// <summary>
/// The answer to a register message nobody handled (it reached dead letters: its register stopped, its recovery from the
/// journal failed or timed out): nothing was done. A type of its own, not a <see cref="RegisterFailed"/>, because a caller
/// that walks many registers (the account listing's repair) must stop at it, as at a timeout: the next register would
/// most likely wait as long. A node of an earlier version cannot read it and drops it; its caller then times out, as before.
/// </summary>
/// <param name="Message">The error, naming the register (never data).</param>
internal sealed record RegisterUnavailable(string Message)
{
    /// <summary>The exception the caller's Ask throws.</summary>
    public Exception ToException() => new RegisterUnavailableException(Message);
}

/// <summary>A register did not handle a request (see <see cref="RegisterUnavailable"/>); nothing was done, the next request recovers it again.</summary>
internal sealed class RegisterUnavailableException(string message) : InvalidOperationException(message);

// ---- journal events and snapshots -----------------------------------------------------------------------------

/// <summary>Journal event: the register now holds <paramref name="Payload"/> at <paramref name="Version"/>.</summary>
internal sealed record TokensStored(long Version, byte[] Payload);

/// <summary>Journal event: the register was emptied (sign-out).</summary>
internal sealed record TokensCleared;

/// <summary>Snapshot of a register: its version and payload (null when empty).</summary>
internal sealed record TokenRegisterSnapshot(long Version, byte[]? Payload);

/// <summary>
/// What <see cref="TokenRegisterSerializer"/> reads from a journal event or snapshot it cannot read (a format of a newer
/// version, a damaged row): recovery goes on and the register answers with a clear error instead of stopping, which
/// sent its callers' messages to dead letters. Never written.
/// </summary>
/// <param name="Reason">Why, for the error: a format or manifest, never the row's bytes.</param>
internal sealed record UnreadableRecord(string Reason);

/// <summary>
/// Stops a register (or the index) once it has done what it is doing: the registers' retirement and sharding's hand-off
/// stop message. A PoisonPill stopped it between a write to the journal and its answer (the caller waited out, not
/// knowing whether its rotated tokens were stored); this message, like any command, waits while a write is in flight.
/// Local only: never crosses nodes.
/// </summary>
internal sealed record RegisterStop
{
    /// <summary>The one instance.</summary>
    public static RegisterStop Instance { get; } = new();
}

/// <summary>Journal event of the index: an account id was listed or unlisted.</summary>
internal sealed record AccountIdChanged(string AccountId, bool Listed);

/// <summary>Snapshot of the index.</summary>
internal sealed record AccountIndexSnapshot(IReadOnlyList<string> Ids);
