namespace O8Actors.Accounts;

/// <summary>
/// A key ring folder the app named (shared by the processes of a cluster, say) holds a key this process may not read:
/// another user's, written for its owner alone. The store fails rather than pass over it, which would make a key of
/// this process's own that the others cannot read either, and each would read the others' tokens as absent.
/// </summary>
internal sealed class KeyRingKeyUnreadableException(string folder, string keyFile, Exception innerException) : IOException(
    $"The key ring folder '{folder}' holds a key this process may not read ({keyFile}): every process that shares the folder must " +
    "read every key in it (run them as one user, or give them read access). Passing the key over would make a new key the others " +
    "cannot read, and each would read the others' stored tokens as absent.", innerException);
