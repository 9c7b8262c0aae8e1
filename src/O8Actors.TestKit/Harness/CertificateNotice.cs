namespace O8Actors.TestKit;

/// <summary>What to tell people about the certificate a harness or demo uses.</summary>
public static class CertificateNotice
{
    /// <summary>Shown whenever the throwaway development CA is in use.</summary>
    public const string DevelopmentCa =
        "The callback listener uses a throwaway development CA that only the scripted browser trusts. " +
        "Real browsers reject it: install mkcert and run `mkcert -install` (on Linux, for Chromium, first " +
        "`" + O8Actors.Certificates.MkcertInstructions.NssFolderCommand + "` and `" + O8Actors.Certificates.MkcertInstructions.NssDatabaseCommand + "`), " +
        "or use plain http.";
}
