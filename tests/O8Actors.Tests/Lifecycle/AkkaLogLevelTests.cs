using Akka.Actor;
using O8Actors.Diagnostics;

namespace O8Actors.Tests.Lifecycle;

/// <summary>
/// A login asks whether Info lines are on before it creates its logging adapter; the answer must follow
/// <c>akka.loglevel</c>, which the system's own adapter does not.
/// </summary>
public sealed class AkkaLogLevelTests
{
    [Theory]
    [InlineData("OFF", false)]
    [InlineData("ERROR", false)]
    [InlineData("WARNING", false)]
    [InlineData("INFO", true)]
    [InlineData("DEBUG", true)]
    public async Task Info_is_on_exactly_when_the_systems_level_is_info_or_debug(string level, bool expected)
    {
        var system = ActorSystem.Create("levels", $"akka.loglevel = {level}\nakka.stdout-loglevel = OFF");
        try
        {
            Assert.Equal(expected, AkkaLogLevel.InfoEnabled(system));
            // Why the helper exists: the system's adapter says Info is on at every level (so a guard on it never skips).
            Assert.True(system.Log.IsInfoEnabled, "Akka's system adapter now follows akka.loglevel; AkkaLogLevel's remark can go.");
        }
        finally
        {
            await system.Terminate();
        }
    }
}
