// ledsentry-bench: performance benchmarks, one suite per room: `ledsentry-bench <suite>`.
// Figures and how to reproduce them: Docs/performance.md.

let suites: [(name: String, run: @Sendable ([String]) throws -> Void)] = [
    ("analysis", runAnalysisBenchmark),
    ("controllers", { runBenchmarks(controllerBenchmarks, arguments: $0) }),
    ("lighting", { runBenchmarks(lightingBenchmarks, arguments: $0) }),
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
