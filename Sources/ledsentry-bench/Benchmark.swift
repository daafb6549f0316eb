#if canImport(Glibc)
import Glibc
#endif

/// One named measurement in a suite. `run` prints its own figures, one per line.
struct Benchmark: Sendable {
    var name: String
    var summary: String
    var run: @Sendable () throws -> Void
}

/// Runs the benchmarks whose names start with one of `arguments` (all of them when there
/// are none); `--list` lists them. Exits 2 when nothing matches and 1 when one failed.
func runBenchmarks(_ benchmarks: [Benchmark], arguments: [String]) {
    if arguments.contains("--list") || arguments.contains("--help") {
        benchmarks.forEach { print("  \($0.name): \($0.summary)") }
        return
    }
    let chosen = arguments.isEmpty ? benchmarks : benchmarks.filter { b in arguments.contains { b.name.hasPrefix($0) } }
    guard !chosen.isEmpty else {
        print("ledsentry-bench: no benchmark matches \(arguments.joined(separator: " ")); these exist:")
        benchmarks.forEach { print("  \($0.name): \($0.summary)") }
        exit(2)
    }
    var failed = false
    for benchmark in chosen {
        print("== \(benchmark.name): \(benchmark.summary)")
        do { try benchmark.run() } catch {
            print("   FAILED: \(error)")
            failed = true
        }
    }
    if failed { exit(1) }
}

/// Runs `body` `count` times and returns the wall times, sorted.
func timed(_ count: Int, _ body: () throws -> Void) rethrows -> [Duration] {
    var times: [Duration] = []
    for _ in 0..<count {
        let start = ContinuousClock.now
        try body()
        times.append(start.duration(to: .now))
    }
    return times.sorted()
}

func ms(_ d: Duration) -> String {
    let value = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    return String(Int((value * 100).rounded())).withDecimal(2) + " ms"
}

extension String {
    /// "12345" with 2 decimals -> "123.45"
    func withDecimal(_ places: Int) -> String {
        let padded = String(repeating: "0", count: max(0, places + 1 - count)) + self
        return String(padded.dropLast(places)) + "." + String(padded.suffix(places))
    }
}
