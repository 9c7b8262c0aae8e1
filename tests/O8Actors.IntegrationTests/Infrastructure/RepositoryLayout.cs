namespace O8Actors.IntegrationTests.Infrastructure;

/// <summary>
/// Finds folders of the checkout from the test assembly's location, so the node project in
/// <c>tests/O8Actors.IntegrationTests/oidc</c> runs in place instead of being copied into bin/.
/// </summary>
public static class RepositoryLayout
{
    private const string SolutionFile = "O8Actors.sln";

    /// <summary>The folder that holds <c>O8Actors.sln</c>, found by walking up from <see cref="AppContext.BaseDirectory"/>.</summary>
    /// <exception cref="InvalidOperationException">No parent folder holds the solution file.</exception>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The oidc-provider node project used by <see cref="OidcServer.OidcProviderServer"/>.</summary>
    public static string OidcFolder => Path.Combine(RepositoryRoot, "tests", "O8Actors.IntegrationTests", "oidc");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
                return dir.FullName;
        }

        throw new InvalidOperationException(
            $"Cannot find {SolutionFile} in any parent folder of {AppContext.BaseDirectory}; the integration tests must run from a build inside the checkout.");
    }
}
