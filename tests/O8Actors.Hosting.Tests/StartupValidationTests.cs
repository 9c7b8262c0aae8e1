using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using O8Actors.Hosting.Tests.Support;
using O8Actors.Providers;

namespace O8Actors.Hosting.Tests;

/// <summary>Bad settings stop the host at start (ValidateOnStart), before any actor runs, naming the setting.</summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("O8:Login:Timeout", "-00:00:05", "o8.login.timeout", "O8:Login:Timeout")]
    [InlineData("O8:Login:ExchangeTimeout", "00:00:00", "o8.login.exchange-timeout", "O8:Login:ExchangeTimeout")]
    [InlineData("O8:Login:Timeout", "99999999999d", "o8.login.timeout", "O8:Login:Timeout")]
    [InlineData("O8:Listener:Scheme", "ftp", "o8.listener.scheme", "O8:Listener:Scheme")]
    [InlineData("O8:Listener:Port", "70000", "o8.listener.port", "O8:Listener:Port")]
    [InlineData("O8:Listener:Host", "example.com", "o8.listener.host", "O8:Listener:Host")]
    [InlineData("O8:Providers:MaxConcurrentExchanges", "0", "o8.providers.max-concurrent-exchanges", "O8:Providers:MaxConcurrentExchanges")]
    [InlineData("O8:Login:MaxPending", "0", "o8.login.max-pending", "O8:Login:MaxPending")]
    [InlineData("O8:Login:MaxPendingPerPartition", "0", "o8.login.max-pending-per-partition", "O8:Login:MaxPendingPerPartition")]
    [InlineData("O8:Providers:MaxQueuedExchanges", "-1", "o8.providers.max-queued-exchanges", "O8:Providers:MaxQueuedExchanges")]
    [InlineData("O8:Listener:ExternalRedirectUri", "http://app.example.com/oauth/callback", "o8.listener.external-redirect-uri", "O8:Listener:ExternalRedirectUri")]
    [InlineData("O8:Login:Method", "sometimes", "o8.login.method", "O8:Login:Method")]
    [InlineData("O8:Login:Method", "1", "o8.login.method", "O8:Login:Method")]
    [InlineData("O8:Listener:Start", "later", "o8.listener.start", "O8:Listener:Start")]
    [InlineData("O8:Listener:Start", "1", "o8.listener.start", "O8:Listener:Start")]
    public async Task Invalid_setting_fails_the_start_naming_it(string key, string value, string hoconKey, string configurationKey)
    {
        var settings = HostedO8.LoopbackSettings();
        settings[key] = value;
        using var host = HostedO8.Build(settings);

        // The same exception as standalone: one type for a bad setting, wherever it was set.
        var error = await Assert.ThrowsAsync<O8ConfigurationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(hoconKey, error.HoconKey);
        Assert.Equal(configurationKey, error.ConfigurationKey);
        Assert.Contains($"'{hoconKey}'", error.Message);
        Assert.Contains($"'{configurationKey}'", error.Message);
        Assert.Contains($"Set it in HOCON as '{hoconKey}' or in configuration as '{configurationKey}'.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("O8:Login:Timout", "00:00:05", "o8.login.timout", "did you mean 'O8:Login:Timeout'")]
    [InlineData("O8:Listener:Prot", "0", "o8.listener.prot", "did you mean 'O8:Listener:Port'")]
    [InlineData("O8:Listener:Strat", "OnFirstUse", "o8.listener.strat", "did you mean 'O8:Listener:Start'")]
    [InlineData("O8:Providers:MaxConcurrentExchange", "4", "o8.providers.max-concurrent-exchange", "did you mean 'O8:Providers:MaxConcurrentExchanges'")]
    [InlineData("O8:Colour", "blue", "o8.colour", "is not an O8Actors setting")]
    public async Task An_unknown_key_fails_the_start_suggesting_the_setting(string key, string value, string hoconKey, string message)
    {
        var settings = HostedO8.LoopbackSettings();
        settings[key] = value;
        using var host = HostedO8.Build(settings);

        var error = await Assert.ThrowsAsync<O8ConfigurationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(hoconKey, error.HoconKey);
        Assert.Equal(key, error.ConfigurationKey);
        Assert.Contains(message, error.Message);
        // Named both ways, but not offered as a key to set (it is the misspelling), and a suggestion ends as a question.
        Assert.Contains($"'{hoconKey}' ('{key}' in configuration) is not an O8Actors setting", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Set it in", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("?.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("O8:Listener:Port", "banana", "o8.listener.port")]
    [InlineData("O8:Login:Timeout", "banana", "o8.login.timeout")]
    [InlineData("O8:Login:Pkce", "banana", "o8.login.pkce")]
    [InlineData("O8:Login:MaxPending", "banana", "o8.login.max-pending")]
    [InlineData("O8:Login:MaxPendingPerPartition", "banana", "o8.login.max-pending-per-partition")]
    [InlineData("O8:Providers:MaxQueuedExchanges", "banana", "o8.providers.max-queued-exchanges")]
    public async Task A_value_that_does_not_parse_fails_the_start_naming_the_key_and_quoting_the_value(string key, string value, string hoconKey)
    {
        var settings = HostedO8.LoopbackSettings();
        settings[key] = value;
        using var host = HostedO8.Build(settings);

        var error = await Assert.ThrowsAsync<O8ConfigurationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(hoconKey, error.HoconKey);
        Assert.Contains($"'{key}'", error.Message);
        Assert.Contains("'banana'", error.Message);
    }

    [Fact]
    public async Task An_unknown_key_in_the_hosting_HOCON_fails_the_start()
    {
        using var host = HostedO8.Build(HostedO8.LoopbackSettings(),
            o => o.Hocon = Akka.Configuration.ConfigurationFactory.ParseString("o8.login.pcke = off"));

        var error = await Assert.ThrowsAsync<O8ConfigurationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("did you mean 'o8.login.pkce'", error.Message);
    }

    [Fact]
    public async Task Provider_sections_are_not_mistaken_for_unknown_settings()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Providers:MaxConcurrentExchanges"] = "4";
        settings["O8:Providers:crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize";
        settings["O8:Providers:crm:TokenEndpoint"] = "https://crm.example.com/token";
        settings["O8:Providers:crm:ClientId"] = "crm-client";
        settings["O8:Providers:crm:ClientAuthentication"] = "None";
        using var host = HostedO8.Build(settings);

        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Invalid_provider_in_configuration_fails_the_start_naming_its_section()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Providers:crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize";
        settings["O8:Providers:crm:TokenEndpoint"] = "https://crm.example.com/token";
        // No ClientId.
        using var host = HostedO8.Build(settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("'O8:Providers:crm'", error.Message);
        Assert.Contains("ClientId", error.Message);
    }

    [Fact]
    public async Task A_private_key_jwt_provider_loads_its_certificate_and_key_from_PEM_files()
    {
        var folder = Directory.CreateTempSubdirectory("o8-client-key-");
        try
        {
            await WriteClientCertificateAsync(folder.FullName);

            var settings = PrivateKeyJwtProvider(Path.Combine(folder.FullName, "client.pem"), Path.Combine(folder.FullName, "client-key.pem"));
            using var host = HostedO8.Build(settings);

            // The provider validates at start: private_key_jwt without a loaded certificate and key would fail it.
            await host.StartAsync(TestContext.Current.CancellationToken);
            await host.StopAsync(TestContext.Current.CancellationToken);

            // A preset takes the same files (Microsoft Entra ID's certificate credentials).
            var preset = HostedO8.LoopbackSettings();
            preset["O8:Providers:entra:Preset"] = "microsoft";
            preset["O8:Providers:entra:Tenant"] = "contoso.onmicrosoft.com";
            preset["O8:Providers:entra:ClientId"] = "entra-client";
            preset["O8:Providers:entra:ClientCertificateFile"] = Path.Combine(folder.FullName, "client.pem");
            preset["O8:Providers:entra:ClientKeyFile"] = Path.Combine(folder.FullName, "client-key.pem");
            using (var entra = HostedO8.Build(preset))
            {
                await entra.StartAsync(TestContext.Current.CancellationToken);
                await entra.StopAsync(TestContext.Current.CancellationToken);
            }
            preset["O8:Providers:entra:ClientKeyFile"] = Path.Combine(folder.FullName, "absent-key.pem");
            using (var entraWithoutKey = HostedO8.Build(preset))
            {
                var presetError = await Assert.ThrowsAsync<OptionsValidationException>(() => entraWithoutKey.StartAsync(TestContext.Current.CancellationToken));
                Assert.Contains("'O8:Providers:entra'", presetError.Message);
                Assert.Contains("absent-key.pem", presetError.Message);
            }

            using var missing = HostedO8.Build(PrivateKeyJwtProvider(Path.Combine(folder.FullName, "absent.pem"), null));
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => missing.StartAsync(TestContext.Current.CancellationToken));
            Assert.Contains("'O8:Providers:crm'", error.Message);
            Assert.Contains("ClientCertificateFile", error.Message);
            Assert.Contains("absent.pem", error.Message);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The key id a section gives a certificate's assertions, and the audience it asks for, reach the provider: the
    /// Microsoft preset dropped the key id (the certificate file names none), and a misspelt audience fails the start.
    /// </summary>
    [Fact]
    public async Task A_presets_certificate_keeps_the_key_id_and_audience_its_section_gives()
    {
        var folder = Directory.CreateTempSubdirectory("o8-client-key-id-");
        try
        {
            await WriteClientCertificateAsync(folder.FullName);
            var section = new Dictionary<string, string?>
            {
                ["entra:Preset"] = "microsoft",
                ["entra:Tenant"] = "contoso.onmicrosoft.com",
                ["entra:ClientId"] = "entra-client",
                ["entra:ClientCertificateFile"] = Path.Combine(folder.FullName, "client.pem"),
                ["entra:ClientKeyFile"] = Path.Combine(folder.FullName, "client-key.pem"),
                ["entra:ClientSigningKeyId"] = "app-2026",
                ["entra:ClientAssertionAudience"] = "EndpointCalled",
            };

            var options = Assert.IsType<GenericOAuthStrategy>(Support.ConfiguredProviderSettings.BuildOne(section)).Options;

            Assert.Equal(("app-2026", ClientAssertionAudience.EndpointCalled), (options.ClientSigningKeyId, options.ClientAssertionAudience));
            section["entra:ClientAssertionAudience"] = "Tokenendpoint-typo";
            Assert.ThrowsAny<Exception>(() => Support.ConfiguredProviderSettings.BuildOne(section));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_relative_key_file_is_read_from_the_hosts_content_root_not_the_working_directory()
    {
        // A Windows service's working directory is System32; the files sit beside the app, in its content root, where
        // Kestrel reads its own certificate files from too.
        var contentRoot = Directory.CreateTempSubdirectory("o8-content-root-");
        try
        {
            await WriteClientCertificateAsync(Directory.CreateDirectory(Path.Combine(contentRoot.FullName, "keys")).FullName);

            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = contentRoot.FullName });
            builder.Configuration.AddInMemoryCollection(PrivateKeyJwtProvider(Path.Combine("keys", "client.pem"), Path.Combine("keys", "client-key.pem")));
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddOAuthLogins();
            builder.Services.AddAkka("o8-content-root", akka => akka.WithOAuthLogins());
            using var host = builder.Build();

            // The provider validates at start: private_key_jwt without its loaded certificate and key would fail it.
            await host.StartAsync(TestContext.Current.CancellationToken);
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
        finally
        {
            contentRoot.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The app's configuration sets <c>O8:Persistence</c> but no persistence is added (the package's
    /// WithOAuthAccountsPersistence forgotten): its settings were ignored and the tokens kept in memory, every user signing
    /// in again after each restart. The start fails naming the section and the call.
    /// </summary>
    [Fact]
    public async Task A_persistence_section_without_persistence_fails_the_start_naming_it()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Persistence:Database"] = "PostgreSql";
        using var host = HostedO8.Build(settings, systemName: "o8-persistence-unread");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("O8:Persistence", error.Message, StringComparison.Ordinal);
        Assert.Contains("WithOAuthAccountsPersistence", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A relative certificate folder read from configuration is the content root's, as the providers' key files are: from
    /// the working directory (a Windows service's is System32, <c>dotnet run --project</c>'s the repository), the listener
    /// found no certificate, or with mkcert made one there.
    /// </summary>
    [Fact]
    public async Task A_relative_certificate_folder_is_read_from_the_hosts_content_root_not_the_working_directory()
    {
        var ct = TestContext.Current.CancellationToken;
        var contentRoot = Directory.CreateTempSubdirectory("o8-content-root-");
        try
        {
            var certs = Directory.CreateDirectory(Path.Combine(contentRoot.FullName, "certs")).FullName;
            using (var certificate = O8Actors.TestKit.Certificates.DevelopmentCertificateAuthority.Create().IssueServerCertificate())
            using (var key = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPrivateKey(certificate)!)
            {
                await File.WriteAllTextAsync(Path.Combine(certs, "localhost.pem"), certificate.ExportCertificatePem(), ct);
                await File.WriteAllTextAsync(Path.Combine(certs, "localhost-key.pem"), key.ExportPkcs8PrivateKeyPem(), ct);
            }
            var settings = HostedO8.LoopbackSettings();
            settings["O8:Listener:Scheme"] = "https";
            settings["O8:Certificates:Folder"] = "certs";
            settings["O8:Certificates:AutoCreate"] = "false";

            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = contentRoot.FullName });
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddOAuthLogins();
            builder.Services.AddAkka("o8-certificate-folder", akka => akka.WithOAuthLogins());
            using var host = builder.Build();

            await host.StartAsync(ct);
            try
            {
                Assert.Equal(Path.Combine(contentRoot.FullName, "certs"),
                    host.Services.GetRequiredService<IOptions<O8Actors.Configuration.O8Options>>().Value.Certificates.Folder);
                Assert.True((await host.Services.GetRequiredService<IOAuthLogins>().GetStatusAsync(ct)).ListenerBound);
            }
            finally
            {
                await host.StopAsync(ct);
            }
        }
        finally
        {
            contentRoot.Delete(recursive: true);
        }
    }

    /// <summary>Writes a client certificate (<c>client.pem</c>) and its private key (<c>client-key.pem</c>) into <paramref name="folder"/>.</summary>
    private static async Task WriteClientCertificateAsync(string folder)
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var certificate = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=crm-client", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Combine(folder, "client.pem"), certificate.ExportCertificatePem(), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, "client-key.pem"), key.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);
    }

    private static Dictionary<string, string?> PrivateKeyJwtProvider(string certificateFile, string? keyFile)
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Providers:crm:AuthorizationEndpoint"] = "https://crm.example.com/authorize";
        settings["O8:Providers:crm:TokenEndpoint"] = "https://crm.example.com/token";
        settings["O8:Providers:crm:ClientId"] = "crm-client";
        settings["O8:Providers:crm:ClientAuthentication"] = "PrivateKeyJwt";
        settings["O8:Providers:crm:ClientCertificateFile"] = certificateFile;
        if (keyFile is not null) settings["O8:Providers:crm:ClientKeyFile"] = keyFile;
        return settings;
    }

    [Fact]
    public async Task Unknown_preset_fails_the_start_naming_the_setting()
    {
        var settings = HostedO8.LoopbackSettings();
        settings["O8:Providers:chat:Preset"] = "slack";
        settings["O8:Providers:chat:ClientId"] = "id";
        using var host = HostedO8.Build(settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("'O8:Providers:chat'", error.Message);
        Assert.Contains("Preset", error.Message);
    }

    [Fact]
    public void Settings_in_WithOAuthLogins_are_refused_because_they_would_skip_validation()
    {
        var options = new O8HostingOptions().ConfigureSettings(o => o.Login.Timeout = TimeSpan.FromSeconds(5));
        var builder = new Akka.Hosting.AkkaConfigurationBuilder(new Microsoft.Extensions.DependencyInjection.ServiceCollection(), "x");

        var error = Assert.Throws<ArgumentException>(() => builder.WithOAuthLogins(options));

        Assert.Contains("AddOAuthLogins", error.Message);
    }
}
