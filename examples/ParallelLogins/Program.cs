// dotnet run --project examples/ParallelLogins [-- --help]
// Many logins at once through one loopback listener, against the embedded sandbox authorization server.

// A cold process starts with as many pool threads as cores and adds more slowly; hundreds of logins starting at once
// would then measure thread injection rather than O8Actors. A warm pool gives the numbers a long-running host sees.
ThreadPool.GetMinThreads(out var workers, out var io);
ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));

return await O8Actors.Examples.ParallelLogins.ParallelLoginsCommand.InvokeAsync(args);
