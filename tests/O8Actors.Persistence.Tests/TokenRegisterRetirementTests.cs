using Akka.Actor;
using O8Actors.Persistence.Registers;
using O8Actors.Persistence.Tests.Support;

namespace O8Actors.Persistence.Tests;

/// <summary>
/// A register retired while its write is in flight (its idle notice crossed a save) answers the write first, and the
/// next message for the account goes to a register that recovers that write, never to one started beside it.
/// </summary>
public sealed class TokenRegisterRetirementTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private StoreHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await StoreHost.StartOnTemporarySqliteAsync("o8-retire-");

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task A_register_retired_during_a_write_answers_it_and_its_successor_reads_it()
    {
        var ct = TestContext.Current.CancellationToken;
        const string id = "sandbox/erin";
        var system = _host.System;
        var registers = await system.ActorSelection("/user/o8-token-registers").ResolveOne(Wait, ct);
        // The account's register starts (and recovers) on its first message.
        Assert.Equal(0, (await registers.Ask<TokensLoaded>(new LoadTokens(id), Wait, ct)).Version);
        var register = await system.ActorSelection("/user/o8-token-registers/register-1").ResolveOne(Wait, ct);
        var inbox = Inbox.Create(system);
        inbox.Watch(register);

        // A save reaches the register just before its parent handles the register's idle notice and retires it; a
        // load follows at once.
        inbox.Send(registers, new SaveTokens(id, [1, 2, 3], 0));
        registers.Tell(new TokenRegisters.Idle(PersistenceIds.Of(id)), register);
        inbox.Send(registers, new LoadTokens(id));

        Assert.Equal(1, Assert.IsType<TokensSaved>(await inbox.ReceiveAsync(Wait)).Version);
        Assert.Equal(register, Assert.IsType<Terminated>(await inbox.ReceiveAsync(Wait)).ActorRef);
        var loaded = Assert.IsType<TokensLoaded>(await inbox.ReceiveAsync(Wait));
        Assert.Equal(1, loaded.Version);
        Assert.Equal([1, 2, 3], loaded.Payload!);
    }
}
