using Akka.Actor;
using Akka.Actor.Setup;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace O8Actors.Hosting;

/// <summary>
/// How an Akka.Hosting extension (O8Actors.Persistence's <c>WithOAuthAccountsPersistence</c>) gives the accounts their
/// store: a store that needs the actor system cannot be a DI singleton made before it, so the extension adds this
/// setup, and <c>WithOAuthLogins</c> makes the store from it when the system is up.
/// </summary>
/// <param name="create">Makes the store in the started actor system.</param>
internal sealed class TokenStoreSetup(Func<ActorSystem, IServiceProvider, ITokenStore> create) : Setup
{
    /// <summary>Makes the store.</summary>
    public Func<ActorSystem, IServiceProvider, ITokenStore> Create { get; } = create;

    /// <summary>
    /// The accounts' store: an app's own <see cref="ITokenStore"/> from DI, or the one of this setup; neither keeps
    /// accounts in memory. Both at once is a mistake the app hears about at start.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The app's configuration sets the persistence section (<c>O8:Persistence</c>) but no persistence is added: its
    /// settings would be ignored without a word, and the tokens kept in memory (or the app's own store).
    /// </exception>
    public static ITokenStore? Resolve(ActorSystem system, IServiceProvider services, string? configurationSection)
    {
        var own = services.GetService<ITokenStore>();
        var setup = system.Settings.Setup.Get<TokenStoreSetup>();
        if (!setup.HasValue)
        {
            if (configurationSection is { Length: > 0 } && services.GetService<IConfiguration>() is { } configuration
                && configuration.GetSection($"{configurationSection}:{O8SettingsSetup.PersistenceSection}").GetChildren().Any())
                throw new InvalidOperationException(
                    $"The configuration sets {configurationSection}:Persistence, but no persistence reads it: add O8Actors.Persistence's " +
                    $"WithOAuthAccountsPersistence(o => o.FromConfiguration({ReadArguments(configurationSection)})) to the actor system, or remove the section " +
                    $"(the tokens are kept {(own is null ? "in memory" : $"in {own.GetType().Name}")}).");
            return own;
        }
        if (own is not null)
            throw new InvalidOperationException(
                "Two token stores are configured: an ITokenStore in the service collection and WithOAuthAccountsPersistence; keep one.");
        return setup.Value.Create(system, services);
    }

    /// <summary>
    /// The arguments of O8Actors.Persistence's <c>FromConfiguration</c> call that reads the persistence settings under the
    /// app's O8 section <paramref name="section"/> (its default section is <c>O8:Persistence</c>).
    /// </summary>
    internal static string ReadArguments(string section) =>
        section == "O8" ? "configuration" : $"configuration, \"{section}:{O8SettingsSetup.PersistenceSection}\"";
}
