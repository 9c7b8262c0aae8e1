namespace O8Actors.Hosting.Tests.Support;

/// <summary>
/// The test classes that post to a back-channel logout endpoint: one collection, so they run one after the other. Their
/// refusals are counted on <c>o8.backchannel_logouts.rejected</c>, and a test that records that counter
/// (<see cref="O8Actors.TestSupport.CounterRecorder"/>, a process-wide listener) would otherwise count another class's posts.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BackChannelLogoutPosters
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Back-channel logout posters";
}
