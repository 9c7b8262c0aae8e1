// dotnet run --project examples/OidcIssuer -- --issuer https://login.example.com --client-id my-cli
// dotnet run --project examples/OidcIssuer -- --sandbox        (no accounts: a local OpenID Connect server and a scripted user)
return await O8Actors.Examples.OidcIssuer.OidcIssuerCommand.InvokeAsync(args);
