using QRCoder;

namespace O8Actors.Tests.Flows;

/// <summary>What a console app prints for a device login: the instructions and a faithful QR code of the complete URI.</summary>
public sealed class DeviceCodePromptTests
{
    private static DeviceCodeIssuedEvent Issued(Uri? complete) =>
        new("l1", "github", "WDJB-MJHT", new Uri("https://github.com/login/device"), complete, TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(5));

    [Fact]
    public void The_prompt_names_the_uri_the_code_and_its_lifetime_and_draws_the_QR_code_of_the_complete_uri()
    {
        var text = DeviceCodePrompt.Format(Issued(new Uri("https://github.com/login/device?user_code=WDJB-MJHT")));

        Assert.Contains("open https://github.com/login/device on any device and enter the code WDJB-MJHT", text);
        Assert.Contains("valid for 15 minutes", text);
        Assert.Contains("Or scan this code with a phone:", text);
        Assert.Contains(DeviceCodePrompt.QrCode("https://github.com/login/device?user_code=WDJB-MJHT"), text);
    }

    [Fact]
    public void Without_a_complete_uri_or_when_asked_there_is_no_QR_code()
    {
        Assert.DoesNotContain("scan", DeviceCodePrompt.Format(Issued(null)));
        Assert.DoesNotContain("scan", DeviceCodePrompt.Format(Issued(new Uri("https://github.com/login/device?user_code=WDJB-MJHT")), qrCode: false));
    }

    [Fact]
    public void Each_character_of_the_QR_code_is_two_modules_light_ones_drawn_dark_ones_blank()
    {
        const string content = "https://idp.test/device?user_code=BCDF-GHJK";
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(content, QRCodeGenerator.ECCLevel.L);
        var matrix = data.ModuleMatrix;

        var lines = DeviceCodePrompt.QrCode(content).Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal((matrix.Count + 1) / 2, lines.Length);
        for (var row = 0; row < matrix.Count; row++)
        for (var column = 0; column < matrix.Count; column++)
        {
            var ch = lines[row / 2][column];
            var lit = row % 2 == 0 ? ch is '█' or '▀' : ch is '█' or '▄';
            Assert.True(lit == !matrix[row][column], $"module ({row}, {column}) drawn as '{ch}'");
        }
    }

    /// <summary>
    /// The light modules are drawn in the terminal's text colour, which a light theme makes dark: the code came out
    /// inverted there, and many phone scanners do not find an inverted code. Painted white on black it reads the same on
    /// every theme; a writer to a file or a pipe gets it unpainted (no colour codes in a log).
    /// </summary>
    [Fact]
    public void The_painted_QR_code_is_white_on_black_line_by_line_and_a_writer_to_a_file_gets_it_plain()
    {
        var issued = Issued(new Uri("https://github.com/login/device?user_code=WDJB-MJHT"));
        var plain = DeviceCodePrompt.QrCode("https://github.com/login/device?user_code=WDJB-MJHT");

        var painted = DeviceCodePrompt.Format(issued, qrCode: true, painted: true);

        var lines = plain.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        foreach (var line in lines) Assert.Contains("\u001b[97;40m" + line + "\u001b[0m" + Environment.NewLine, painted);
        Assert.DoesNotContain("\u001b[", DeviceCodePrompt.Format(issued));
        var toAFile = new StringWriter();
        DeviceCodePrompt.WriteTo(toAFile).OnNext(issued);
        Assert.DoesNotContain("\u001b[", toAFile.ToString());
        Assert.Contains(plain, toAFile.ToString());
    }

    [Fact]
    public void The_writer_prints_the_prompt_and_a_line_when_the_interval_grows()
    {
        var output = new StringWriter();
        var writer = DeviceCodePrompt.WriteTo(output, qrCode: false);

        writer.OnNext(Issued(null));
        writer.OnNext(new DevicePollEvent("l1", "github", 1, TimeSpan.FromSeconds(5)));
        writer.OnNext(new DevicePollEvent("l1", "github", 2, TimeSpan.FromSeconds(10)));

        var text = output.ToString();
        Assert.Contains("enter the code WDJB-MJHT", text);
        Assert.Contains("Waiting for the answer (polling every 5 s)...", text);
        Assert.Single(text.Split(Environment.NewLine), l => l.Contains("slow down", StringComparison.Ordinal));
        Assert.Contains("polling every 10 s.", text);
    }

    [Fact]
    public void A_complete_uri_too_long_for_a_QR_code_is_left_out_and_the_writer_still_prints_the_instructions()
    {
        // QRCoder holds at most 2953 bytes: a provider's longer complete URI threw, and nothing was printed at all, while
        // the login polled for a code the user was never told.
        var complete = new Uri("https://provider.test/device?user_code=WDJB-MJHT&x=" + new string('a', 3000));
        var output = new StringWriter();
        var writer = DeviceCodePrompt.WriteTo(output);

        writer.OnNext(Issued(complete));

        var text = output.ToString();
        Assert.Contains("open https://github.com/login/device on any device and enter the code WDJB-MJHT", text);
        Assert.Contains("Waiting for the answer (polling every 5 s)...", text);
        Assert.DoesNotContain("scan", text);
        Assert.Equal(text[..text.IndexOf("Waiting", StringComparison.Ordinal)], DeviceCodePrompt.Format(Issued(complete)));
    }
}
