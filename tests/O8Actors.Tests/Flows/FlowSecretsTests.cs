using O8Actors.Flows;

namespace O8Actors.Tests.Flows;

/// <summary>FlowSecrets owns the shape of its random tokens: what it mints, and what it recognises as one.</summary>
public sealed class FlowSecretsTests
{
    [Theory]
    [InlineData(6)]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(32)]
    public void A_minted_token_has_the_shape_of_a_token_of_its_size_only(int bytes)
    {
        var token = FlowSecrets.RandomToken(bytes);

        Assert.Equal(FlowSecrets.TokenLength(bytes), token.Length);
        Assert.True(FlowSecrets.IsToken(token, bytes));
        Assert.False(FlowSecrets.IsToken(token, bytes + 1));
        Assert.False(FlowSecrets.IsToken(token, bytes - 1));
    }

    [Fact]
    public void A_token_of_32_bytes_is_43_characters_and_one_of_16_bytes_22()
    {
        Assert.Equal(43, FlowSecrets.TokenLength(32));
        Assert.Equal(22, FlowSecrets.TokenLength(16));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 42 characters
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 44 characters
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")] // base64, not base64url
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // padding
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAé")] // a letter, but not an ASCII one
    public void Anything_else_is_not_a_token_of_32_bytes(string value) => Assert.False(FlowSecrets.IsToken(value, 32));

    [Fact]
    public void Every_character_of_the_base64url_alphabet_is_accepted()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        Assert.True(FlowSecrets.IsToken(alphabet.AsSpan(0, 43), 32));
        Assert.True(FlowSecrets.IsToken(alphabet.AsSpan(alphabet.Length - 43), 32));
    }
}
