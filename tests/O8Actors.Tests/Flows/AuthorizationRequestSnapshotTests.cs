namespace O8Actors.Tests.Flows;

/// <summary>
/// What a running login keeps of its request: its own copy of every collection, so a caller that reuses or changes its
/// list cannot change a login already running; a request with no collection is immutable already and is kept as it is.
/// </summary>
public sealed class AuthorizationRequestSnapshotTests
{
    [Fact]
    public void A_request_without_collections_is_kept_as_it_is()
    {
        var request = new AuthorizationRequest(Timeout: TimeSpan.FromMinutes(2), Partition: "tenant-a") { Method = LoginMethod.Browser };

        Assert.Same(request, LoginClient.Snapshot(request));
        Assert.Same(AuthorizationRequest.Default, LoginClient.Snapshot(AuthorizationRequest.Default));
    }

    [Fact]
    public void A_request_without_extra_parameters_reads_one_shared_empty_list_not_a_new_one_each_time()
    {
        var request = new AuthorizationRequest(["openid"]);

        Assert.Empty(request.Parameters);
        // Read per login (the authorize URL, the step-up checks): a new dictionary each time was garbage on every login.
        Assert.Same(request.Parameters, AuthorizationRequest.Default.Parameters);
        Assert.Same(request.Parameters, request.Parameters);
    }

    [Fact]
    public void Collections_are_copied_so_later_changes_by_the_caller_do_not_reach_the_login()
    {
        var scopes = new List<string> { "openid" };
        var acr = new List<string> { "urn:mace:incommon:iap:silver" };
        var extra = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["login_hint"] = "ada" };
        var request = new AuthorizationRequest(scopes, ExtraParameters: extra) { AcrValues = acr, Partition = "tenant-a" };

        var kept = LoginClient.Snapshot(request);
        scopes.Add("offline_access");
        acr.Clear();
        extra["login_hint"] = "mallory";

        Assert.Equal(["openid"], kept.Scopes!);
        Assert.Equal(["urn:mace:incommon:iap:silver"], kept.AcrValues!);
        Assert.Equal("ada", kept.ExtraParameters!["login_hint"]);
        // The caller's comparer decides which keys count as one, in the copy too.
        Assert.True(kept.ExtraParameters.ContainsKey("LOGIN_HINT"));
        Assert.Equal("tenant-a", kept.Partition);
    }
}
