namespace O8Actors.Benchmarks;

/// <summary>
/// The line protocol between the driver (browser + authorization server) and a measured child process, over the
/// child's stdin/stdout. Child → driver: <c>READY uri</c>, <c>URL authorizeUrl</c>, <c>MEASURING</c> (the measured
/// phase starts), <c>RESULT json</c>, <c>LOG text</c>; in the interleaved mode <c>WARMED logins settled</c> and
/// <c>BLOCKDONE json</c> (one block's result).
/// Driver → child: <c>GO issuer clientId</c>, <c>JIT</c> (answered <c>JITSTATE methods tiering-cpu-ms process-cpu-ms</c>), <c>MARK</c>, <c>DONE</c>;
/// in the interleaved mode <c>BLOCK m</c> (measure m logins now), and closing the child's input ends it.
/// </summary>
internal static class Wire
{
    private static readonly Lock Gate = new();

    public static void Send(string verb, string payload)
    {
        // One write per line: Akka's own (warning) log lines share stdout and must not split a message.
        var line = verb + " " + payload + "\n";
        lock (Gate)
        {
            Console.Out.Write(line);
            Console.Out.Flush();
        }
    }

    public static async Task<string> ExpectAsync(string verb)
    {
        while (true)
        {
            var line = await Console.In.ReadLineAsync().ConfigureAwait(false) ?? throw new InvalidOperationException($"The driver went away before '{verb}'.");
            if (line.StartsWith(verb, StringComparison.Ordinal)) return line[verb.Length..].Trim();
        }
    }

    /// <summary>The next line, or null once the driver has closed this process's input.</summary>
    public static async Task<string?> NextLineAsync() => await Console.In.ReadLineAsync().ConfigureAwait(false);

    /// <summary>The next line's verb.</summary>
    public static async Task<string> ExpectAnyAsync()
    {
        var line = await Console.In.ReadLineAsync().ConfigureAwait(false) ?? throw new InvalidOperationException("The driver went away.");
        return line.Split(' ', 2)[0];
    }
}
