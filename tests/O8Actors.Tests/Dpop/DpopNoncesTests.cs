using O8Actors.Dpop;

namespace O8Actors.Tests.Dpop;

/// <summary>The nonces kept per server (RFC 9449 section 8) are bounded: a client that may call any origin keeps them for the app's life.</summary>
public sealed class DpopNoncesTests
{
    [Fact]
    public void Nonces_of_more_servers_than_the_capacity_start_the_map_over_and_each_server_keeps_its_latest_meanwhile()
    {
        var nonces = new DpopNonces();
        var first = new Uri("https://api-0.example.test/resource");

        for (var i = 0; i < DpopNonces.Capacity; i++) nonces.Remember(new Uri($"https://api-{i}.example.test/resource"), $"n-{i}");
        nonces.Remember(first, "n-0-again");

        Assert.Equal(DpopNonces.Capacity, nonces.Count);
        Assert.Equal("n-0-again", nonces.For(first)); // a server already kept is replaced in place

        nonces.Remember(new Uri("https://one-more.example.test/"), "n-new");

        Assert.Equal(1, nonces.Count);
        Assert.Null(nonces.For(first));
        Assert.Equal("n-new", nonces.For(new Uri("https://one-more.example.test/other")));
    }
}
