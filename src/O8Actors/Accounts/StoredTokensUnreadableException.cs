namespace O8Actors;

/// <summary>
/// Thrown by an <see cref="ITokenStore"/>'s <see cref="ITokenStore.LoadAsync"/> or <see cref="ITokenStore.SaveAsync"/>
/// when the account has a stored record that cannot be read at all (written by a newer format, or damaged), as opposed
/// to a store that failed for now. No compare-and-set can be made against such a record, so logins and refreshes fail;
/// a sign-out revokes the tokens this process holds for the account, if any, and removes the record
/// (<see cref="ITokenStore.RemoveAsync"/> must clear it), so signing the account out is always the way out.
/// </summary>
/// <remarks>The message names the record and why it does not read; it must never quote the record's content.</remarks>
public sealed class StoredTokensUnreadableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which record and why it does not read (a format, never data).</param>
    public StoredTokensUnreadableException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">Which record and why it does not read (a format, never data).</param>
    /// <param name="innerException">The cause.</param>
    public StoredTokensUnreadableException(string message, Exception innerException) : base(message, innerException) { }
}
