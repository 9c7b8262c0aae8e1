// dotnet run --project examples/DeviceLogin                          (no account: the sandbox, whose scripted user approves)
// dotnet run --project examples/DeviceLogin -- --user deny-me        (... or refuses: deny…, slow…, expire…)
// dotnet run --project examples/DeviceLogin -- --issuer https://login.example.com --client-id my-cli
return await O8Actors.Examples.DeviceLogin.DeviceLoginCommand.InvokeAsync(args);
