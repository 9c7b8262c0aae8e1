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
    public static ITokenStore? Resolve(ActorSystem system, IServiceProvider services)
    {
        var own = services.GetService<ITokenStore>();
        var setup = system.Settings.Setup.Get<TokenStoreSetup>();
        if (!setup.HasValue)
        {
            if (ConfiguredPersistenceSection(services) is { } section)
                throw new InvalidOperationException(
                    $"The configuration sets {section}, but no persistence reads it: add O8Actors.Persistence's " +
                    $"WithOAuthAccountsPersistence(o => o.FromConfiguration({ReadArguments(section)})) to the actor system, or remove the section " +
                    $"(the tokens are kept {(own is null ? "in memory" : $"in {own.GetType().Name}")}).");
            return own;
        }
        if (own is not null)
            throw new InvalidOperationException(
                "Two token stores are configured: an ITokenStore in the service collection and WithOAuthAccountsPersistence; keep one.");
        return setup.Value.Create(system, services);
    }

    /// <summary>
    /// The persistence section under the app's O8 section (<c>O8:Persistence</c>, or under <c>AddOAuthLogins</c>'
    /// <see cref="O8HostingOptions.ConfigurationSection"/>) when the app's configuration sets it; null when it sets none,
    /// or the app reads no configuration section.
    /// </summary>
    internal static string? ConfiguredPersistenceSection(IServiceProvider services)
    {
        var o8 = services.GetService<O8HostingOptions>() is { } hosting ? hosting.ConfigurationSection : "O8";
        if (o8 is not { Length: > 0 } || services.GetService<IConfiguration>() is not { } configuration) return null;
        var section = $"{o8}:{O8SettingsSetup.PersistenceSection}";
        return configuration.GetSection(section).GetChildren().Any() ? section : null;
    }

    /// <summary>The arguments of O8Actors.Persistence's <c>FromConfiguration</c> call that reads <paramref name="section"/> (its default is <c>O8:Persistence</c>).</summary>
    internal static string ReadArguments(string section) => section == "O8:Persistence" ? "configuration" : $"configuration, \"{section}\"";
}
