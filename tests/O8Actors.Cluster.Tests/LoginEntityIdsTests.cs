using O8Actors.Flows;

namespace O8Actors.Cluster.Tests;

/// <summary>The state carries its login's routing id beside its secret, and only that id is read from it.</summary>
public sealed class LoginEntityIdsTests
{
    [Fact]
    public void A_minted_entity_id_is_16_random_bytes_in_base64url()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => LoginEntityIds.Mint()).ToList();
        Assert.All(ids, id => Assert.True(LoginEntityIds.IsValid(id), id));
        Assert.Equal(1000, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void A_prefixed_state_is_the_entity_id_a_dot_and_a_256_bit_secret_and_gives_back_its_entity_id()
    {
        var entityId = LoginEntityIds.Mint();
        var state = FlowSecrets.Create(entityId).State;

        Assert.Equal(LoginEntityIds.Length + 1 + 43, state.Length);
        Assert.StartsWith(entityId + ".", state, StringComparison.Ordinal);
        Assert.True(LoginEntityIds.TryGetEntityId(state, out var read));
        Assert.Equal(entityId, read);
        // Two logins of one entity id would still have different secrets.
        Assert.NotEqual(state, FlowSecrets.Create(entityId).State);
    }

    [Fact]
    public void Without_a_prefix_the_state_is_the_loopback_state_of_43_characters()
    {
        var state = FlowSecrets.Create(null).State;
        Assert.Equal(43, state.Length);
        Assert.DoesNotContain('.', state);
        Assert.False(LoginEntityIds.TryGetEntityId(state, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA")] // an id and nothing after it
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA.")] // no secret
    [InlineData("AAAAAAAAAAAAAAAAAAAAA.secret")] // 21 characters
    [InlineData("AAAAAAAAAAAAAAAAAAAA/A.secret")] // not base64url
    [InlineData("AAAAAAAAAA%2FAAAAAAAAAA.secret")]
    public void A_state_without_a_well_formed_routing_id_names_no_entity(string? state)
    {
        Assert.False(LoginEntityIds.TryGetEntityId(state, out var entityId));
        Assert.Equal("", entityId);
    }
}
