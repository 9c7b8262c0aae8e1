using System.Text;

namespace O8Actors.Tests.Accounts;

/// <summary>The encrypted file store: round trip, versions, file modes, no token on disk in plain text, two stores on one folder.</summary>
public sealed class FileTokenStoreTests : IDisposable
{
    private static readonly OAuthAccount Alice = new("github", "alice");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-file-store-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static TokenSet Tokens(string suffix) => new(
        $"access-{suffix}-QmFzZTY0U2VjcmV0", "Bearer", new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero), $"refresh-{suffix}-UmVmcmVzaFNlY3JldA",
        "read write", $"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.idtoken-{suffix}")
    {
        IdTokenClaims = new IdTokenClaims("alice", "https://issuer.test", ["client"], new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero),
            new DateTimeOffset(2030, 1, 2, 2, 4, 5, TimeSpan.Zero), "alice@example.test", "Alice", []),
    };

    [Fact]
    public async Task Tokens_round_trip_through_the_encrypted_file()
    {
        var store = new FileTokenStore(_folder);
        var tokens = Tokens("1");

        Assert.Equal(1L, await store.SaveAsync(Alice, tokens, 0));
        var loaded = await new FileTokenStore(_folder).LoadAsync(Alice);

        Assert.NotNull(loaded);
        Assert.Equal(1L, loaded.Version);
        Assert.Equal((tokens.AccessToken, tokens.TokenType, tokens.ExpiresAt, tokens.RefreshToken, tokens.Scope, tokens.IdToken),
            (loaded.Tokens.AccessToken, loaded.Tokens.TokenType, loaded.Tokens.ExpiresAt, loaded.Tokens.RefreshToken, loaded.Tokens.Scope, loaded.Tokens.IdToken));
        Assert.Equal(("alice", "https://issuer.test", "alice@example.test"),
            (loaded.Tokens.IdTokenClaims!.Subject, loaded.Tokens.IdTokenClaims.Issuer, loaded.Tokens.IdTokenClaims.Email));
        Assert.Equal([Alice], await store.ListAsync("github"));
        Assert.Empty(await store.ListAsync("google"));
    }

    [Fact]
    public async Task A_write_from_an_older_version_is_refused()
    {
        var store = new FileTokenStore(_folder);
        await store.SaveAsync(Alice, Tokens("1"), 0);
        await store.SaveAsync(Alice, Tokens("2"), 1);

        // A writer that read version 1 (before the rotation to "2") must not overwrite it.
        Assert.Null(await new FileTokenStore(_folder).SaveAsync(Alice, Tokens("stale"), 1));
        var loaded = await store.LoadAsync(Alice);
        Assert.Equal(("refresh-2-UmVmcmVzaFNlY3JldA", 2L), (loaded!.Tokens.RefreshToken, loaded.Version));
    }

    [Fact]
    public async Task A_save_of_any_version_replaces_a_file_that_does_not_decrypt_and_a_missing_file_still_refuses_it()
    {
        var store = new FileTokenStore(_folder);
        await store.SaveAsync(Alice, Tokens("1"), 0);
        await store.SaveAsync(Alice, Tokens("2"), 1);
        // The file turns unreadable after a refresh read version 2 (damage, a key ring lost): it reads as nothing stored.
        var file = Assert.Single(Directory.EnumerateFiles(_folder, "*.token"));
        await File.WriteAllBytesAsync(file, Encoding.UTF8.GetBytes("not a protected payload"));
        Assert.Null(await store.LoadAsync(Alice));

        // The refresh's rotated tokens go over it, at the version the refresh expected to follow.
        Assert.Equal(3L, await store.SaveAsync(Alice, Tokens("3"), 2));
        var loaded = await new FileTokenStore(_folder).LoadAsync(Alice);
        Assert.Equal(("refresh-3-UmVmcmVzaFNlY3JldA", 3L), (loaded!.Tokens.RefreshToken, loaded.Version));

        // An account removed (signed out elsewhere) is not unreadable: a save that expected a version is still refused.
        await store.RemoveAsync(Alice);
        Assert.Null(await store.SaveAsync(Alice, Tokens("4"), 3));
        Assert.Null(await store.LoadAsync(Alice));
    }

    [Fact]
    public async Task A_DPoP_key_is_kept_with_its_tokens_and_its_private_part_is_never_on_disk_in_plain_text()
    {
        using var key = O8Actors.Dpop.DpopKey.Create();
        var d = System.Text.Json.JsonDocument.Parse(key.ToJwk()).RootElement.GetProperty("d").GetString()!;
        await new FileTokenStore(_folder).SaveAsync(Alice, Tokens("1") with { TokenType = "DPoP", DpopKey = key }, 0);

        var loaded = await new FileTokenStore(_folder).LoadAsync(Alice);

        Assert.Equal(key.Thumbprint, loaded!.Tokens.DpopKey!.Thumbprint);
        var needle = System.Text.Encoding.UTF8.GetBytes(d);
        foreach (var file in Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories))
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} holds the key in plain text");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Files_and_folders_are_the_users_alone()
    {
        var store = new FileTokenStore(_folder);
        await store.SaveAsync(Alice, Tokens("1"), 0);
        await using (await store.LockAsync(Alice)) { }

        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        foreach (var file in Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories))
            Assert.True(File.GetUnixFileMode(file) == owner, $"{Path.GetFileName(file)} is {File.GetUnixFileMode(file)}");
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(_folder));
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_folder, "keys")));
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(_folder, "keys")));
    }

    [Theory]
    [InlineData("save")]
    [InlineData("remove")]
    [InlineData("lock")]
    public async Task A_caller_that_gives_up_while_another_holds_the_lock_gets_a_cancellation_not_an_IO_error(string operation)
    {
        var store = new FileTokenStore(_folder);
        await store.SaveAsync(Alice, Tokens("1"), 0);
        var lockFile = Path.Combine(_folder, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Alice.Id))) +
            (operation == "lock" ? ".token.lock" : ".token.wlock"));
        Assert.True(File.Exists(lockFile) || operation == "lock", "the store's write lock file is named as the test expects");
        // Another process's hold (an exclusive open takes the same lock as the store's).
        await using var held = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        // The caller's deadline has passed by the time the store finds the lock held.
        var cancelled = new CancellationToken(canceled: true);

        Task call = operation switch
        {
            "save" => store.SaveAsync(Alice, Tokens("2"), 1, cancelled),
            "remove" => store.RemoveAsync(Alice, cancelled),
            _ => store.LockAsync(Alice, cancelled),
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1L, (await store.LoadAsync(Alice))!.Version);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task An_existing_folder_and_key_files_left_open_to_others_are_made_the_users_alone()
    {
        const UnixFileMode open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
            UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        await new FileTokenStore(_folder).SaveAsync(Alice, Tokens("1"), 0);
        // As an older version, a copy or a hand left them.
        File.SetUnixFileMode(_folder, open);
        File.SetUnixFileMode(Path.Combine(_folder, "keys"), open);
        foreach (var key in Directory.EnumerateFiles(Path.Combine(_folder, "keys")))
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        Assert.NotNull(await new FileTokenStore(_folder).LoadAsync(Alice));

        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(_folder));
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_folder, "keys")));
        foreach (var key in Directory.EnumerateFiles(Path.Combine(_folder, "keys")))
            Assert.True(File.GetUnixFileMode(key) == owner, $"{Path.GetFileName(key)} is {File.GetUnixFileMode(key)}");
    }

    [Fact]
    public async Task Two_apps_with_the_same_provider_and_account_key_keep_their_own_tokens()
    {
        var shared = Path.Combine(_folder, "tokens");
        var first = AppStore("first-cli", shared);
        var second = AppStore("second-cli", shared);

        await first.SaveAsync(Alice, Tokens("first"), 0);
        await second.SaveAsync(Alice, Tokens("second"), 0);

        Assert.Equal("refresh-first-UmVmcmVzaFNlY3JldA", (await first.LoadAsync(Alice))!.Tokens.RefreshToken);
        Assert.Equal("refresh-second-UmVmcmVzaFNlY3JldA", (await second.LoadAsync(Alice))!.Tokens.RefreshToken);
        await second.RemoveAsync(Alice);
        Assert.Equal([Alice], await first.ListAsync());
    }

    [Fact]
    public async Task An_apps_own_folder_never_takes_a_copy_of_the_folder_apps_shared_before()
    {
        // A live refresh token in two folders, outside one file lock, would be spent twice: the shared folder is not read.
        var shared = Path.Combine(_folder, "tokens");
        await new FileTokenStore(shared).SaveAsync(Alice, Tokens("1"), 0);

        var upgraded = AppStore("cli", shared);

        Assert.Null(await upgraded.LoadAsync(Alice));
        Assert.Empty(await upgraded.ListAsync());
        Assert.Equal(1L, (await new FileTokenStore(shared).LoadAsync(Alice))!.Version);
    }

    [Fact]
    public void The_default_folder_is_the_apps_own_and_an_app_id_is_one_folder_name()
    {
        Assert.EndsWith(Path.Combine("o8actors", "apps", "my-cli", "tokens"), FileTokenStore.DefaultFolderFor("my-cli"), StringComparison.Ordinal);
        var entry = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name;
        if (entry is not null) Assert.EndsWith(Path.Combine("o8actors", "apps", entry, "tokens"), FileTokenStore.DefaultFolder, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => FileTokenStore.ForApp("../other"));
        Assert.Throws<ArgumentException>(() => FileTokenStore.ForApp(".."));
        Assert.Throws<ArgumentException>(() => FileTokenStore.ForApp(" "));
    }

    /// <summary>The store of app <paramref name="appId"/> as its default folder is made, under this test's folder.</summary>
    private FileTokenStore AppStore(string appId, string shared) => new(Path.Combine(Path.GetDirectoryName(shared)!, "apps", appId, "tokens"));

    [Fact]
    public async Task No_token_is_on_disk_in_plain_text()
    {
        var store = new FileTokenStore(_folder);
        var tokens = Tokens("1");
        await store.SaveAsync(Alice, tokens, 0);
        await store.SaveAsync(Alice, Tokens("2"), 1);

        var secrets = new[] { tokens.AccessToken, tokens.RefreshToken!, tokens.IdToken!, Tokens("2").AccessToken, Tokens("2").RefreshToken!, "QmFzZTY0U2VjcmV0", "UmVmcmVzaFNlY3JldA" };
        var files = Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.EndsWith(".token", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var secret in secrets)
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"{Path.GetFileName(file)} holds a token (UTF-8)");
                Assert.True(bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(secret)) < 0, $"{Path.GetFileName(file)} holds a token (UTF-16)");
            }
        }
    }

    [Fact]
    public async Task A_file_whose_key_ring_is_gone_reads_as_no_tokens()
    {
        await new FileTokenStore(_folder).SaveAsync(Alice, Tokens("1"), 0);
        Directory.Delete(Path.Combine(_folder, "keys"), recursive: true);

        Assert.Null(await new FileTokenStore(_folder).LoadAsync(Alice));
    }

    [Fact]
    public async Task A_token_folder_deleted_while_the_app_runs_is_created_again_by_the_next_save()
    {
        var ct = CancellationToken.None;
        var store = new FileTokenStore(_folder);
        Assert.Equal(1L, await store.SaveAsync(Alice, Tokens("1"), 0, ct));

        Directory.Delete(_folder, recursive: true);

        // Before, the write lock's open failed on the missing folder and was taken for contention: polled forever.
        Assert.Null(await store.LoadAsync(Alice, ct).WaitAsync(TimeSpan.FromSeconds(20), ct));
        Assert.Equal(1L, await store.SaveAsync(Alice, Tokens("2"), 0, ct).WaitAsync(TimeSpan.FromSeconds(20), ct));
        Assert.Equal("refresh-2-UmVmcmVzaFNlY3JldA", (await new FileTokenStore(_folder).LoadAsync(Alice, ct))!.Tokens.RefreshToken);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_folder));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_folder, "keys")));
        }
    }

    [Fact]
    public async Task Remove_forgets_the_account()
    {
        var store = new FileTokenStore(_folder);
        await store.SaveAsync(Alice, Tokens("1"), 0);

        await store.RemoveAsync(Alice);

        Assert.Null(await store.LoadAsync(Alice));
        Assert.Empty(await store.ListAsync());
    }

    [Fact]
    public async Task Two_stores_on_one_folder_take_turns_and_never_lose_a_write()
    {
        // Each "process" repeatedly does what a refresh does: lock, read, write the next version. Without the lock two
        // would read the same version and one write would be refused (or, without the version check, lost).
        var stores = new[] { new FileTokenStore(_folder), new FileTokenStore(_folder) };
        await stores[0].SaveAsync(Alice, Tokens("0"), 0);
        var refused = 0;

        await Task.WhenAll(stores.Select(store => Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await using var held = await store.LockAsync(Alice);
                var current = await store.LoadAsync(Alice);
                if (await store.SaveAsync(Alice, Tokens($"{current!.Version}"), current.Version) is null) Interlocked.Increment(ref refused);
            }
        })));

        Assert.Equal(0, refused);
        Assert.Equal(41L, (await stores[1].LoadAsync(Alice))!.Version);
    }

    [Fact]
    public void The_folder_of_a_save_is_written_to_the_disk_where_the_platform_can()
    {
        // A save's rename reaches the disk only with its folder; the folder's fsync must work here (Linux, macOS), or a
        // power loss may bring back a file whose refresh token the provider has rotated away.
        Directory.CreateDirectory(_folder);

        Assert.Equal(!OperatingSystem.IsWindows(), O8Actors.Accounts.FolderSync.Flush(_folder));
        Assert.False(O8Actors.Accounts.FolderSync.Flush(Path.Combine(_folder, "missing")));
    }
}
