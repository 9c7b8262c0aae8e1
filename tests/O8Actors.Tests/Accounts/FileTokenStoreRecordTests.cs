using System.Text;
using O8Actors.Accounts;

namespace O8Actors.Tests.Accounts;

/// <summary>
/// What the file store leaves on disk and reads back beyond its own format: a save that died before its rename, and a
/// file a newer version of O8Actors wrote (the app then downgraded).
/// </summary>
public sealed class FileTokenStoreRecordTests : IDisposable
{
    private static readonly OAuthAccount Alice = new("github", "alice");
    private static readonly OAuthAccount Bob = new("github", "bob");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "o8-file-records-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private async Task<string> SaveAndFindAsync(FileTokenStore store, OAuthAccount account)
    {
        var before = Directory.Exists(_folder) ? Directory.EnumerateFiles(_folder, "*.token").ToHashSet() : [];
        await store.SaveAsync(account, new TokenSet($"access-{account.Key}", "Bearer", RefreshToken: $"refresh-{account.Key}"), 0);
        return Assert.Single(Directory.EnumerateFiles(_folder, "*.token"), f => !before.Contains(f));
    }

    [Fact]
    public async Task A_sign_out_also_deletes_the_temporary_file_a_save_that_died_before_its_rename_left_with_the_tokens()
    {
        var store = new FileTokenStore(_folder);
        var alices = await SaveAndFindAsync(store, Alice);
        var bobs = await SaveAndFindAsync(store, Bob);
        // A crash after the flush and before the rename: the encrypted tokens stay in the temporary file.
        var leftover = $"{alices}.{Guid.NewGuid():N}.tmp";
        var bobsSave = $"{bobs}.{Guid.NewGuid():N}.tmp";
        File.Copy(alices, leftover);
        File.Copy(bobs, bobsSave);

        await store.RemoveAsync(Alice);

        Assert.False(File.Exists(leftover), "the signed-out account's tokens are still on disk in a temporary file");
        Assert.True(File.Exists(bobsSave), "another account's file was deleted");
        Assert.Null(await store.LoadAsync(Alice));
    }

    /// <summary>
    /// A key file that cannot be read (empty after a power loss right after it was written, another user's after a
    /// <c>sudo</c> run) failed the whole key ring: every account loaded as signed out and every save threw, so every run
    /// opened the browser again. It is passed over; the tokens of the keys that read are read and saved.
    /// </summary>
    [Fact]
    public async Task An_unreadable_key_file_does_not_take_the_other_keys_and_every_account_with_it()
    {
        await SaveAndFindAsync(new FileTokenStore(_folder), Alice);
        await File.WriteAllBytesAsync(Path.Combine(_folder, "keys", $"key-{Guid.NewGuid()}.xml"), []);

        var store = new FileTokenStore(_folder);

        Assert.Equal("refresh-alice", (await store.LoadAsync(Alice))?.Tokens.RefreshToken);
        Assert.Equal(1, await store.SaveAsync(Bob, new TokenSet("access-bob", "Bearer", RefreshToken: "refresh-bob"), 0));
        Assert.Equal("refresh-bob", (await new FileTokenStore(_folder).LoadAsync(Bob))?.Tokens.RefreshToken);
    }

    /// <summary>A folder whose name a URI would read otherwise ("%41" is "A" there): its keys are read from the folder itself.</summary>
    [Fact]
    public async Task The_keys_of_a_folder_whose_name_holds_a_percent_sign_are_read_back()
    {
        var folder = Path.Combine(_folder, "a%41b");
        await new FileTokenStore(folder).SaveAsync(Alice, new TokenSet("access-alice", "Bearer", RefreshToken: "refresh-alice"), 0);

        Assert.Equal("refresh-alice", (await new FileTokenStore(folder).LoadAsync(Alice))?.Tokens.RefreshToken);
        Assert.Single(Directory.EnumerateFiles(Path.Combine(folder, "keys"), "key-*.xml"));
    }

    [Fact]
    public async Task A_file_of_a_newer_format_is_reported_unreadable_not_taken_for_absent_and_overwritten()
    {
        var store = new FileTokenStore(_folder);
        var file = await SaveAndFindAsync(store, Alice);
        await SaveAndFindAsync(store, Bob);
        // What a newer version might write: it decrypts (same key ring) but is not this version's record.
        var newer = PrivateKeyRing.Create(Path.Combine(_folder, "keys"), "O8Actors.Tokens").CreateProtector("O8Actors.Tokens.v1")
            .Protect(Encoding.UTF8.GetBytes("""{"Format":2,"Tokens":["refresh-of-the-newer-version"],"Version":{"Major":2}}"""));
        await File.WriteAllBytesAsync(file, newer);

        var load = await Assert.ThrowsAsync<StoredTokensUnreadableException>(() => store.LoadAsync(Alice));
        // The login that follows a "signed out" account would have gone over the newer tokens.
        await Assert.ThrowsAsync<StoredTokensUnreadableException>(() => store.SaveAsync(Alice, new TokenSet("access-older", "Bearer"), 0));

        Assert.DoesNotContain("refresh-of-the-newer-version", load.ToString(), StringComparison.Ordinal);
        Assert.Equal(newer, await File.ReadAllBytesAsync(file));
        Assert.Equal([Bob], await store.ListAsync());
        // Signing out is the way out.
        await store.RemoveAsync(Alice);
        Assert.Equal(1L, await store.SaveAsync(Alice, new TokenSet("access-older", "Bearer"), 0));
    }

    /// <summary>
    /// A token file this process may not open (another user's, mode 0600, in a folder two apps share) was a failure of
    /// the whole list. CI runs as root, which reads any file, so the refusal is played through the store's file opener.
    /// </summary>
    [Fact]
    public async Task A_token_file_this_process_may_not_open_leaves_the_list_of_the_other_accounts_whole()
    {
        var alices = await SaveAndFindAsync(new FileTokenStore(_folder), Alice);
        await SaveAndFindAsync(new FileTokenStore(_folder), Bob);
        var store = new FileTokenStore(_folder, file =>
            file == alices ? throw new UnauthorizedAccessException($"Access to the path '{file}' is denied.") : File.OpenRead(file));

        Assert.Equal([Bob], await store.ListAsync());
        Assert.Equal([Bob], await store.ListAsync("github"));
    }

    /// <summary>
    /// Any other failure to read a token file (a disk error, no file handles left) fails the list: an account left out
    /// in silence would be taken for one not signed in.
    /// </summary>
    [Fact]
    public async Task A_token_file_that_fails_to_read_fails_the_list_instead_of_leaving_its_account_out()
    {
        var alices = await SaveAndFindAsync(new FileTokenStore(_folder), Alice);
        await SaveAndFindAsync(new FileTokenStore(_folder), Bob);
        var store = new FileTokenStore(_folder, file => file == alices ? throw new IOException("Input/output error") : File.OpenRead(file));

        await Assert.ThrowsAsync<IOException>(() => store.ListAsync());
    }

    [Fact]
    public async Task A_file_whose_fields_all_parse_but_whose_format_number_is_newer_is_reported_unreadable()
    {
        var store = new FileTokenStore(_folder);
        // A newer version's record that kept this version's fields (and perhaps changed what one of them means).
        var (file, newer) = await WrittenByAnotherVersionAsync(store, """
            {"Provider":"github","Key":"alice","Version":7,"AccessToken":"access-of-the-newer-version","TokenType":"Bearer",
             "RefreshToken":"refresh-of-the-newer-version","Format":2}
            """);

        var load = await Assert.ThrowsAsync<StoredTokensUnreadableException>(() => store.LoadAsync(Alice));

        Assert.DoesNotContain("newer-version", load.ToString(), StringComparison.Ordinal);
        Assert.Equal(newer, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task A_file_written_before_records_carried_a_format_number_is_read_as_before()
    {
        var store = new FileTokenStore(_folder);
        var file = await SaveAndFindAsync(store, Alice);
        var older = PrivateKeyRing.Create(Path.Combine(_folder, "keys"), "O8Actors.Tokens").CreateProtector("O8Actors.Tokens.v1")
            .Protect(Encoding.UTF8.GetBytes("""
                {"Provider":"github","Key":"alice","Version":3,"AccessToken":"access-1","TokenType":"Bearer","RefreshToken":"refresh-1"}
                """));
        await File.WriteAllBytesAsync(file, older);

        var stored = await store.LoadAsync(Alice);

        Assert.Equal("refresh-1", stored!.Tokens.RefreshToken);
        Assert.Equal(3L, stored.Version);
    }

    /// <summary>Alice's file, holding <paramref name="json"/> encrypted with the store's key ring (as another version would write it).</summary>
    private async Task<(string File, byte[] Payload)> WrittenByAnotherVersionAsync(FileTokenStore store, string json)
    {
        var file = await SaveAndFindAsync(store, Alice);
        var payload = PrivateKeyRing.Create(Path.Combine(_folder, "keys"), "O8Actors.Tokens").CreateProtector("O8Actors.Tokens.v1")
            .Protect(Encoding.UTF8.GetBytes(json));
        await File.WriteAllBytesAsync(file, payload);
        return (file, payload);
    }
}
