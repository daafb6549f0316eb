// ledsentry-bench: runs the rooms' benchmarks and prints their figures (recorded in
// Docs/performance.md). Each room adds one file with its `[Benchmark]` and one line below.
// Usage: ledsentry-bench [--list] [NAME-PREFIX ...]
let benchmarks: [Benchmark] = lightingBenchmarks + controllerBenchmarks

runBenchmarks(benchmarks, arguments: Array(CommandLine.arguments.dropFirst()))
