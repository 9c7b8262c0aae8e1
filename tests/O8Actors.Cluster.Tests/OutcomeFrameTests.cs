using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Serialization;

namespace O8Actors.Cluster.Tests;

/// <summary>
/// The check an entity makes before it sends a login's outcome to the node that began it, in an actor system with a
/// 64 KiB remoting frame whose serializer for <see cref="LoginEnded"/> counts its calls: an outcome that cannot cross
/// becomes a clear failure, and only one near the frame is serialized to find out.
/// </summary>
public sealed class OutcomeFrameTests() : Akka.TestKit.Xunit.TestKit(Config)
{
    private const long Frame = 64 * 1024;
    private const string Secret = "TOKEN-TEXT-";

    private static readonly Akka.Configuration.Config Config = ConfigurationFactory.ParseString($$"""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.remote.dot-netty.tcp.maximum-frame-size = {{Frame}}b
        akka.actor.serializers.counting = "{{typeof(CountingSerializer).AssemblyQualifiedName}}"
        akka.actor.serialization-identifiers { "{{typeof(CountingSerializer).AssemblyQualifiedName}}" = 4711 }
        akka.actor.serialization-bindings { "{{typeof(LoginEnded).AssemblyQualifiedName}}" = counting }
        """);

    /// <summary>The JSON serializer, counting how often it serialized a message.</summary>
    public sealed class CountingSerializer(ExtendedActorSystem system) : NewtonSoftJsonSerializer(system)
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public override byte[] ToBinary(object obj)
        {
            Interlocked.Increment(ref _calls);
            return base.ToBinary(obj);
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CountingSerializer Serializer => (CountingSerializer)Sys.Serialization.FindSerializerForType(typeof(LoginEnded));

    // A gateway on another node: resolving its address sends nothing.
    private IActorRef RemoteGateway => ((ExtendedActorSystem)Sys).Provider.ResolveActorRef("akka.tcp://o8@127.0.0.1:2552/user/o8-gateway");

    private static LoginEnded Ended(int accessTokenLength, string? raw = null) => new("login-1", WireOutcome.From(new LoginSucceeded("login-1",
        new TokenSet(string.Concat(Enumerable.Repeat(Secret, accessTokenLength / Secret.Length + 1)), "Bearer", Raw: raw))));

    private LoginEnded Fit(IActorRef replyTo, LoginEnded ended) => OutcomeFrame.Fit(Sys, OutcomeFrame.FrameSize(Sys), replyTo, ended, Logging.GetLogger(Sys, "outcome-frame"));

    [Fact]
    public void An_outcome_for_a_gateway_on_this_node_is_sent_whole_however_large()
    {
        var ended = Ended(4 * (int)Frame);

        Assert.Same(ended, Fit(TestActor, ended));
        Assert.Equal(0, Serializer.Calls);
    }

    [Fact]
    public void An_ordinary_outcome_for_another_node_is_sent_without_being_serialized_to_measure_it()
    {
        var ended = Ended(2_000, raw: """{"access_token":"…","token_type":"Bearer"}""");

        Assert.Same(ended, Fit(RemoteGateway, ended));
        Assert.Equal(0, Serializer.Calls);
    }

    [Fact]
    public void An_outcome_whose_bound_nears_the_frame_is_measured_once_and_sent_when_it_fits()
    {
        // Each '<' may cost six bytes in some escape modes (the bound counts that); this serializer writes one.
        var ended = Ended(100, raw: new string('<', 20_000));
        Assert.True(OutcomeFrame.SizeBound(ended) > Frame, "the bound alone does not clear it");

        Assert.Same(ended, Fit(RemoteGateway, ended));
        Assert.Equal(1, Serializer.Calls);
    }

    [Fact]
    public void An_outcome_too_large_for_the_frame_becomes_a_clear_failure_and_one_warning_that_quote_no_token()
    {
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings, typeof(Warning));
        var ended = Ended(2 * (int)Frame);

        var sent = Fit(RemoteGateway, ended);

        Assert.Equal(1, Serializer.Calls);
        Assert.Equal("login-1", sent.LoginId);
        var failed = Assert.IsType<LoginFailed>(sent.Outcome.ToOutcome());
        Assert.Equal((LoginFailure.TokenExchange, "login-1"), (failed.Failure, failed.LoginId));
        Assert.Contains("issued tokens", failed.Reason, StringComparison.Ordinal);
        Assert.Contains(OutcomeFrame.FrameSizeKey, failed.Reason, StringComparison.Ordinal);
        Assert.Contains($"{Frame} bytes", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, failed.Reason, StringComparison.Ordinal);
        var warning = warnings.FishForMessage<Warning>(w => w.Message.ToString()!.Contains("remoting frame", StringComparison.Ordinal), cancellationToken: Ct);
        Assert.DoesNotContain(Secret, warning.Message.ToString()!, StringComparison.Ordinal);
        warnings.ExpectNoMsg(TimeSpan.FromMilliseconds(200), Ct);
        // What goes instead crosses.
        Assert.Same(sent, Fit(RemoteGateway, sent));
    }
}
