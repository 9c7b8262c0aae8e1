using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(O8Actors.TokenBenchmarks.CachedAccessTokenBenchmark).Assembly).Run(args);
