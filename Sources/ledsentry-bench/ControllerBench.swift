import ArgumentParser
import Foundation
import LEDControllers
import LEDLink
import Logging

/// Controller link figures: request round-trip latency and the time to read a whole
/// wall's per-LED status, against the reference emulator over a pseudo-terminal.
struct ControllerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Round-trip latency (HELLO, GET_PARAM) and full-wall LED status read time over the emulator's PTY.")

    @Option(help: "Cabinets across x down (16 cabinets by default).") var cabinets = "4x4"
    @Option(help: "Requests per latency figure.") var requests = 2000
    @Option(help: "Full-wall reads to time.") var wallReads = 5

    func run() async throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        let emulatorPath = try EmulatorProcess.locate(searchFrom: [executable, FileManager.default.currentDirectoryPath])
        let emulator = try EmulatorProcess(executable: emulatorPath, arguments: ["--cabinets", cabinets], quiet: true)
        defer { emulator.stop() }
        var logger = Logger(label: "ledsentry.bench")
        logger.logLevel = .warning
        let client = ControllerClient(transport: try openPort(emulator.portPath, logger: logger))
        try await client.hello()
        let identity = try await client.identify()
        let g = identity.geometry

        print("== Controller link (emulator \(emulatorPath) on \(emulator.portPath), termios) ==")
        print("wall: \(g.cabinetColumns)x\(g.cabinetRows) cabinets, \(g.wallWidth)x\(g.wallHeight) LEDs "
              + "(\(g.cabinetCount * g.ledsPerCabinet) status bytes)")

        var rows: [[String]] = []
        let hello = try await latency(requests) { _ = try await client.hello() }
        rows.append(["HELLO round trip"] + hello.cells)
        let get = try await latency(requests) { _ = try await client.parameter(.brightness) }
        rows.append(["GET_PARAM round trip"] + get.cells)
        printRows(["FIGURE", "N", "P50", "P99", "MAX"], rows)

        print()
        var wallRows: [[String]] = []
        for limit in [nil, 256, 64] as [Int?] {
            await client.setChunkLimit(limit)
            var times: [Duration] = []
            for _ in 0..<wallReads {
                let start = ContinuousClock.now
                let map = try await client.readWallStatus(identity: identity)
                times.append(ContinuousClock.now - start)
                precondition(map.faults.isEmpty, "the benchmark wall has no faults")
            }
            times.sort()
            let median = times[times.count / 2]
            let leds = Double(g.cabinetCount * g.ledsPerCabinet)
            wallRows.append(["full wall, chunks of \(limit.map(String.init) ?? "1014") B", "\(wallReads)",
                             milliseconds(times.first!), milliseconds(median),
                             String(format: "%.2f M LEDs/s", leds / seconds(median) / 1e6)])
        }
        printRows(["FIGURE", "N", "MIN", "MEDIAN", "THROUGHPUT"], wallRows)
        let statistics = await client.statistics()
        print("link: \(statistics.requests) requests, \(statistics.retries) retries, \(statistics.rejectedFrames) rejected frames")
    }

    struct LatencyFigure {
        var count: Int, p50: Duration, p99: Duration, max: Duration
        var cells: [String] { ["\(count)", milliseconds(p50), milliseconds(p99), milliseconds(max)] }
    }

    private func latency(_ count: Int, _ request: () async throws -> Void) async throws -> LatencyFigure {
        for _ in 0..<min(50, count) { try await request() } // warm up
        var samples: [Duration] = []
        samples.reserveCapacity(count)
        for _ in 0..<count {
            let start = ContinuousClock.now
            try await request()
            samples.append(ContinuousClock.now - start)
        }
        samples.sort()
        func percentile(_ p: Double) -> Duration { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
        return LatencyFigure(count: count, p50: percentile(0.50), p99: percentile(0.99), max: samples.last!)
    }
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

private func milliseconds(_ duration: Duration) -> String { String(format: "%.3f ms", seconds(duration) * 1000) }

private func printRows(_ headers: [String], _ rows: [[String]]) {
    let widths = headers.indices.map { column in ([headers[column]] + rows.map { $0[column] }).map(\.count).max()! }
    for row in [headers] + rows {
        print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}
