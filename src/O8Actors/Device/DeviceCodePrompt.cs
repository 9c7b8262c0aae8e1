using System.Text;
using QRCoder;
using QRCoder.Exceptions;

namespace O8Actors;

/// <summary>
/// What a console app prints for a device login (<see cref="DeviceCodeIssuedEvent"/>): the URL, the user code, and the
/// complete verification URI as a QR code drawn with text blocks, for a phone's camera.
/// </summary>
public static class DeviceCodePrompt
{
    /// <summary>
    /// The instructions, with a QR code when the provider sent a complete verification URI that fits in one and
    /// <paramref name="qrCode"/> is true (a longer one is left out: the user types the code).
    /// </summary>
    /// <param name="issued">The event.</param>
    /// <param name="qrCode">Whether to draw the QR code.</param>
    public static string Format(DeviceCodeIssuedEvent issued, bool qrCode = true) => Format(issued, qrCode, painted: false);

    /// <summary><see cref="Format(DeviceCodeIssuedEvent, bool)"/>, the QR code <see cref="Painted"/> when <paramref name="painted"/>.</summary>
    internal static string Format(DeviceCodeIssuedEvent issued, bool qrCode, bool painted)
    {
        ArgumentNullException.ThrowIfNull(issued);
        var text = new StringBuilder()
            .AppendLine($"To sign in with {issued.Provider}, open {issued.VerificationUri} on any device and enter the code {issued.UserCode}")
            .AppendLine($"(the code is valid for {Minutes(issued.ExpiresIn)}).");
        if (qrCode && issued.VerificationUriComplete is { } complete && QrCodeIfItFits(complete.AbsoluteUri) is { } drawn)
            text.AppendLine("Or scan this code with a phone:").Append(painted ? Painted(drawn) : drawn);
        return text.ToString();
    }

    /// <summary>
    /// <paramref name="qrCode"/> with each line in white on black (ANSI colours, reset at each line's end): its drawn
    /// light modules are in the terminal's text colour, which a light theme makes dark, and an inverted code is one many
    /// phone scanners do not find. Painted, it is dark on light on every theme.
    /// </summary>
    internal static string Painted(string qrCode)
    {
        var text = new StringBuilder(qrCode.Length * 2);
        foreach (var line in qrCode.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries))
            text.Append(WhiteOnBlack).Append(line).Append(ColoursReset).AppendLine();
        return text.ToString();
    }

    private const string WhiteOnBlack = "\u001b[97;40m";
    private const string ColoursReset = "\u001b[0m";

    /// <summary>
    /// Whether <paramref name="output"/> is this process's console on a terminal that reads colour codes: not redirected
    /// to a file or a pipe, colours not turned off (<c>NO_COLOR</c>), not a dumb terminal (<c>TERM=dumb</c>), and on
    /// Windows a Windows Terminal session (<c>WT_SESSION</c>): the classic console prints the codes as text unless the app
    /// turned them on, and a QR code shifted by them does not scan.
    /// </summary>
    private static bool IsColourTerminal(TextWriter output) =>
        string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
        && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal)
        && (!OperatingSystem.IsWindows() || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WT_SESSION")))
        && ((ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected) || (ReferenceEquals(output, Console.Error) && !Console.IsErrorRedirected));

    /// <summary>
    /// <see cref="QrCode"/>, or null for content longer than a QR code holds (2953 bytes): the provider chose the URI's
    /// length, and the instructions must be shown without the picture rather than not at all.
    /// </summary>
    private static string? QrCodeIfItFits(string content)
    {
        try
        {
            return QrCode(content);
        }
        catch (DataTooLongException)
        {
            return null;
        }
    }

    /// <summary>
    /// An observer for <see cref="IOAuthLogins.Events"/> that writes each device login's instructions
    /// (<see cref="Format(DeviceCodeIssuedEvent, bool)"/>) to <paramref name="output"/> when its code arrives, and a line whenever the provider makes it
    /// poll less often (<c>slow_down</c>). Other events are ignored.
    /// </summary>
    /// <param name="output">Where to write, for example <see cref="Console.Out"/> (on a terminal, and without
    /// <c>NO_COLOR</c> set, the QR code is painted white on black with ANSI colours so it scans on any theme).</param>
    /// <param name="qrCode">Whether to draw the QR code.</param>
    public static IObserver<LoginEvent> WriteTo(TextWriter output, bool qrCode = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        return new Writer(output, qrCode, IsColourTerminal(output));
    }

    /// <summary>Writes under a lock: events of several logins arrive on the event stream's thread, one at a time, but the writer may be shared.</summary>
    private sealed class Writer(TextWriter output, bool qrCode, bool painted) : IObserver<LoginEvent>
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, TimeSpan> _intervals = new(StringComparer.Ordinal);

        public void OnNext(LoginEvent value)
        {
            lock (_gate)
            {
                switch (value)
                {
                    case DeviceCodeIssuedEvent issued:
                        output.Write(Format(issued, qrCode, painted));
                        output.WriteLine($"Waiting for the answer (polling every {issued.Interval.TotalSeconds:0} s)...");
                        _intervals[issued.LoginId] = issued.Interval;
                        break;
                    case DevicePollEvent poll when _intervals.TryGetValue(poll.LoginId, out var interval) && poll.Interval != interval:
                        output.WriteLine($"The provider asked to slow down: polling every {poll.Interval.TotalSeconds:0} s.");
                        _intervals[poll.LoginId] = poll.Interval;
                        break;
                    case LoginEndedEvent ended:
                        _intervals.Remove(ended.LoginId);
                        break;
                }
            }
        }

        public void OnCompleted() { }

        public void OnError(Exception error) { }
    }

    /// <summary>
    /// <paramref name="content"/> as a QR code of text blocks, two modules a character (upper and lower half blocks):
    /// the light modules (the quiet zone included) drawn in the text colour, the dark ones blank, which reads dark on
    /// light on a terminal with light text on a dark background. <see cref="WriteTo"/> paints it white on black when it
    /// writes to this process's console on a terminal, so it reads the same on a light theme.
    /// </summary>
    /// <exception cref="DataTooLongException"><paramref name="content"/> is longer than a QR code holds (2953 bytes).</exception>
    public static string QrCode(string content)
    {
        ArgumentException.ThrowIfNullOrEmpty(content);
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(content, QRCodeGenerator.ECCLevel.L);
        var matrix = data.ModuleMatrix; // includes the 4-module quiet zone
        var size = matrix.Count;
        var text = new StringBuilder();
        for (var row = 0; row < size; row += 2)
        {
            for (var column = 0; column < size; column++)
            {
                // Light modules are drawn (terminal text is light on dark by default); dark ones are left blank.
                var top = !matrix[row][column];
                var bottom = row + 1 < size && !matrix[row + 1][column];
                text.Append((top, bottom) switch
                {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    _ => ' ',
                });
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    private static string Minutes(TimeSpan span) =>
        span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} minutes" : $"{span.TotalSeconds:0} seconds";
}
