using O8Actors.Runtime;

namespace O8Actors.Tests.Security;

/// <summary>
/// The one compare of a presented secret with the expected one (client secrets, browser-binding cookies, ID token
/// nonces): equal only when the two are the same text, char for char. That it takes constant time is not measured here
/// (a timing on a shared machine proves nothing either way); it is the helper's one line.
/// </summary>
public sealed class ConstantTimeTests
{
    [Theory]
    [InlineData("s3cret-value", "s3cret-value", true)]
    [InlineData("", "", true)]
    [InlineData("s3cret-value", "s3cret-valuE", false)]  // the same length, the last character wrong
    [InlineData("s3cret-value", "S3cret-value", false)]  // the first character wrong: no case folding
    [InlineData("s3cret-value", "s3cret", false)]        // a prefix of it
    [InlineData("s3cret", "s3cret-value", false)]        // longer than it
    [InlineData("s3cret", "", false)]
    [InlineData("", "s3cret", false)]
    [InlineData("s3cret", null, false)]
    [InlineData(null, "s3cret", false)]
    [InlineData(null, null, false)]                      // nothing expected matches nothing, not even nothing
    [InlineData("caf\u00E9", "cafe\u0301", false)]       // the same word composed differently is other text
    public void Two_texts_are_equal_only_when_they_are_the_same_text(string? expected, string? presented, bool equal) =>
        Assert.Equal(equal, ConstantTime.AreEqual(expected, presented));

    [Fact]
    public void Texts_that_differ_only_in_lone_surrogates_are_not_equal()
    {
        // An encoding to UTF-8 bytes (the compare's former shape) turns each lone surrogate into the same replacement
        // character, so these two different texts compared equal.
        Assert.False(ConstantTime.AreEqual("token\uD800", "token\uDBFF"));
        Assert.False(ConstantTime.AreEqual("token\uD800", "token\uFFFD"));
        Assert.True(ConstantTime.AreEqual("token\uD800", "token\uD800"));
    }
}
