namespace O8Actors.TestKit.Sandbox;

/// <summary>Whether the sandbox binds tokens to the client's key with DPoP (RFC 9449).</summary>
public enum SandboxDpop
{
    /// <summary>DPoP is not advertised (the default) and a proof is ignored: tokens are bearer tokens.</summary>
    Off,

    /// <summary>Advertised (ES256); a token request with a proof gets tokens bound to its key, one without gets bearer tokens.</summary>
    Optional,

    /// <summary>Advertised, and every token request must carry a valid proof: a request without one is refused.</summary>
    Required,
}
