using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Yingyun.Benchmarks -- --filter '*Parse*'
// The data set folder comes from YINGYUN_BENCH_CT (bench/parse.sh generates it).
BenchmarkSwitcher.FromAssembly(typeof(Yingyun.Benchmarks.ParseBenchmarks).Assembly).Run(args);
