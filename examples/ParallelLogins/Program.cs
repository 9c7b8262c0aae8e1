// dotnet run --project examples/ParallelLogins [-- --help]
// Many logins at once through one loopback listener, against the embedded sandbox authorization server.

return await O8Actors.Examples.ParallelLogins.ParallelLoginsCommand.InvokeAsync(args);
