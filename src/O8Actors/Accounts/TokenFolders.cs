using System.Reflection;

namespace O8Actors.Accounts;

/// <summary>
/// Where the token stores keep an app's tokens by default: a folder per app (<c>o8actors/apps/&lt;app id&gt;</c>), so two
/// apps of one user that sign in to the same provider under the same account key (two CLI tools with the <c>github</c>
/// preset and the key <c>default</c>) neither read nor overwrite each other's tokens.
/// </summary>
internal static class TokenFolders
{
    /// <summary>The user's O8Actors data folder: <c>o8actors</c> in LocalApplicationData.</summary>
    public static string DataRoot =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "o8actors");

    /// <summary>The folder every app shared before the default was scoped by app (<c>o8actors/tokens</c>); still the default of an app without an entry assembly.</summary>
    public static string Shared => Path.Combine(DataRoot, "tokens");

    /// <summary>The tokens folder of <paramref name="appId"/> (<c>o8actors/apps/&lt;app id&gt;/tokens</c>).</summary>
    /// <exception cref="ArgumentException">The app id is empty or is not a single folder name.</exception>
    public static string Of(string appId) => Path.Combine(AppFolder(appId), "tokens");

    /// <summary>The folder of <paramref name="appId"/> (<c>o8actors/apps/&lt;app id&gt;</c>), which holds its stores' data.</summary>
    /// <exception cref="ArgumentException">The app id is empty or is not a single folder name.</exception>
    public static string AppFolder(string appId) => Path.Combine(DataRoot, "apps", Checked(appId));

    /// <summary>The entry assembly's name, or null when there is none (a native host): such an app keeps the shared folder.</summary>
    public static string? DefaultAppId =>
        Assembly.GetEntryAssembly()?.GetName().Name is { Length: > 0 } name ? string.Concat(name.Select(c => Invalid.Contains(c) ? '_' : c)) : null;

    private static readonly HashSet<char> Invalid = [.. Path.GetInvalidFileNameChars(), '/', '\\', ':'];

    /// <summary>Whether <paramref name="appId"/> can name an app's folder: one folder name, no separators.</summary>
    public static bool IsFolderName(string? appId) =>
        !string.IsNullOrWhiteSpace(appId) && appId is not ("." or "..") && !appId.Any(Invalid.Contains);

    private static string Checked(string appId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(appId);
        if (!IsFolderName(appId))
            throw new ArgumentException($"An app id is one folder name: no path separators or characters a file name cannot hold (got '{appId}').", nameof(appId));
        return appId;
    }
}
