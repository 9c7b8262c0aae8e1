namespace O8Actors.Accounts;

/// <summary>
/// A key ring folder the app named (shared by the processes of a cluster, say) holds a key this process may not read,
/// or cannot be read at all: another user's, made for its owner alone. The store fails rather than pass over it, which
/// would make a key of this process's own that the others cannot read either, and each would read the others' tokens as
/// absent. Its message names the folder and the key file (no secret), and says so in the account's log line.
/// </summary>
internal sealed class KeyRingKeyUnreadableException(string folder, string? keyFile, Exception innerException) : IOException(
    (keyFile is null
        ? $"The key ring folder '{folder}' cannot be read by this process: "
        : $"The key ring folder '{folder}' holds a key this process may not read ({keyFile}): ") +
    "every process that shares the folder must read every key in it, so run them as one user (O8Actors keeps the keys its " +
    "owner's alone). Passing the key over would make a new key the others cannot read, and each would read the others' " +
    "stored tokens as absent.", innerException);
