// ledsentry-bench: performance benchmarks, one suite per room: `ledsentry-bench <suite>`.
// Figures and how to reproduce them: Docs/performance.md.
// (Merged: analysis' and lighting's suites, and controllers' [Benchmark] list as the
// `controllers` suite, which takes its own [--list] [NAME-PREFIX ...] arguments.)

let suites: [(name: String, run: @Sendable ([String]) throws -> Void)] = [
    ("analysis", runAnalysisBenchmark),
    ("lighting", runLightingBenchmark),
    ("controllers", { runBenchmarks(controllerBenchmarks, arguments: $0) }),
]

let arguments = Array(CommandLine.arguments.dropFirst())
if let name = arguments.first, let suite = suites.first(where: { $0.name == name }) {
    try suite.run(Array(arguments.dropFirst()))
} else if let name = arguments.first, let hidden = hiddenAnalysisCommands[name] {
    try hidden(Array(arguments.dropFirst()))
} else {
    print("usage: ledsentry-bench <suite> [options]; suites: \(suites.map(\.name).joined(separator: ", "))")
    for suite in suites { try suite.run([]) }
}
