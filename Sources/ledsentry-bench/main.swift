import ArgumentParser

// ledsentry-bench: performance figures, one section per room (each in its own file, e.g.
// ControllerBench.swift). `ledsentry-bench` alone runs every section with its defaults;
// `ledsentry-bench <section> --help` shows a section's options. Figures and how to
// reproduce them live in Docs/performance.md.

/// Every section; a room adds its own here.
let benchSections: [any AsyncParsableCommand.Type] = [ControllerBench.self]

struct RunAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Run every section with its defaults.")

    func run() async throws {
        for section in benchSections {
            var command = try section.parseAsRoot([])
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        }
    }
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledsentry-bench", abstract: "LEDSentry benchmarks (figures for Docs/performance.md).",
        subcommands: [RunAll.self] + benchSections, defaultSubcommand: RunAll.self)
}

/// In an async function `main()` resolves to AsyncParsableCommand's; at top level it would
/// pick ParsableCommand's synchronous one, which only prints help.
func runBenchmarks() async { await Bench.main() }

await runBenchmarks()
