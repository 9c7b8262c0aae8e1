namespace O8Actors.Accounts;

/// <summary>
/// The migration of an app's default <see cref="FileTokenStore"/> folder: before the default was scoped by app, every app
/// of the user kept its tokens in one shared folder. The first time an app's own folder is made, the shared folder's
/// token files and key ring are copied into it, so a user who upgrades is still signed in.
/// </summary>
/// <remarks>
/// Which app wrote which file cannot be told (a file is named by a hash of the account id), so the whole folder is
/// copied; from then on each app's copy goes its own way. The shared folder is left as it is, for apps not upgraded yet;
/// a marker there (<c>&lt;app id&gt;.copied</c>) keeps a later copy from bringing tokens back into an app folder the user
/// deleted to sign out.
/// </remarks>
internal static class SharedFolderCopy
{
    /// <summary>Copies <paramref name="shared"/> into <paramref name="appFolder"/> once, unless that folder exists or was made before.</summary>
    public static void Once(string shared, string appFolder, string appId)
    {
        if (Directory.Exists(appFolder) || !Directory.Exists(shared)) return;
        var marker = Path.Combine(shared, appId + ".copied");
        if (File.Exists(marker)) return;

        // Built beside it and moved in whole: another process of the app, starting at once, sees no half-copied folder.
        PrivateFiles.CreateFolder(Path.GetDirectoryName(appFolder)!);
        var staging = $"{appFolder}.{Guid.NewGuid():N}.tmp";
        try
        {
            CopyFiles(shared, staging, "*.token");
            CopyFiles(Path.Combine(shared, "keys"), Path.Combine(staging, "keys"), "*.xml");
            Directory.Move(staging, appFolder);
        }
        catch (IOException) when (Directory.Exists(appFolder))
        {
            // Another process of the app moved its copy in first.
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }

        using (File.Create(marker)) { }
    }

    private static void CopyFiles(string from, string to, string pattern)
    {
        PrivateFiles.CreateFolder(to);
        if (!Directory.Exists(from)) return;
        foreach (var file in Directory.EnumerateFiles(from, pattern))
        {
            try
            {
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
            }
            catch (FileNotFoundException)
            {
                // Removed (a sign-out) while this copied: nothing to bring.
            }
        }

        PrivateFiles.TightenFiles(to);
    }
}
