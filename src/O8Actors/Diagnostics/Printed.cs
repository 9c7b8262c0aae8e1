namespace O8Actors.Diagnostics;

/// <summary>
/// What a message's <c>ToString</c> prints of a member that can hold anything. Akka logs the text of a message that finds
/// its recipient gone (dead letters: a stopped actor, an Ask that timed out; at Information, on by default), and an
/// exception printed whole carries its message and its inner exceptions': an app's strategy or token store may quote a
/// token response there.
/// </summary>
internal static class Printed
{
    /// <summary>The exception's type name only; "none" for null.</summary>
    public static string TypeOf(Exception? exception) => exception?.GetType().Name ?? "none";
}

