namespace O8Actors.TestKit.Browser;

/// <summary>What the scripted user does with one login.</summary>
public enum BrowserAction
{
    /// <summary>Open the authorize URL and follow its redirect to the callback, whatever it carries (a code or an error).</summary>
    Approve,

    /// <summary>Open the authorize URL, then close the tab: the callback is never visited.</summary>
    Abandon,
}
