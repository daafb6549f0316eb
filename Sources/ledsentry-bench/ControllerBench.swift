import Dispatch
import Foundation
import LEDControllers
import LEDLink
import Logging

// Controller link figures: request round-trip latency and the time to read a whole wall's
// per-LED status, through ControllerClient and TermiosTransport to the reference emulator
// on a pseudo-terminal. Docs/performance.md, "Controller link", records them.

let controllerBenchmarks: [Benchmark] = [
    Benchmark(name: "controller-latency",
              summary: "HELLO and GET_PARAM round trips, 2000 each, p50/p99/max (emulator on a PTY)") {
        try withEmulator(cabinets: "2x2") { client in
            for label in ["HELLO", "GET_PARAM"] {
                @Sendable func request() async throws {
                    if label == "HELLO" { _ = try await client.hello() } else { _ = try await client.parameter(.brightness) }
                }
                for _ in 0..<50 { try await request() } // warm up
                var samples: [Duration] = []
                for _ in 0..<2000 {
                    let start = ContinuousClock.now
                    try await request()
                    samples.append(start.duration(to: .now))
                }
                samples.sort()
                let p50 = samples[samples.count / 2], p99 = samples[samples.count * 99 / 100]
                print("   \(label) round trip: p50 \(ms(p50)), p99 \(ms(p99)), max \(ms(samples.last!)) (n 2000)")
            }
        }
    },
    Benchmark(name: "controller-wall-status",
              summary: "per-LED status of a 16-cabinet wall (--cabinets 4x4, 131072 LEDs), 5 reads per chunk size") {
        try withEmulator(cabinets: "4x4") { client in
            let identity = try await client.identify()
            let leds = identity.geometry.cabinetCount * identity.geometry.ledsPerCabinet
            for limit in [nil, 256, 64] as [Int?] {
                await client.setChunkLimit(limit)
                let before = await client.statistics().requests
                var times: [Duration] = []
                for _ in 0..<5 {
                    let start = ContinuousClock.now
                    let map = try await client.readWallStatus(identity: identity)
                    times.append(start.duration(to: .now))
                    precondition(map.faults.isEmpty && map.cabinets.allSatisfy { $0?.count == 8192 })
                }
                times.sort()
                let requests = (await client.statistics().requests - before) / 5
                let median = times[2]
                let seconds = Double(median.components.seconds) + Double(median.components.attoseconds) / 1e18
                print("   chunks of \(limit.map { "\($0)" } ?? "1014") B: \(requests) requests a read; "
                      + "median \(ms(median)), min \(ms(times[0])), max \(ms(times[4])); "
                      + "\(Int(Double(leds) / seconds / 1000)) k LEDs/s")
            }
            let statistics = await client.statistics()
            print("   link: \(statistics.requests) requests, \(statistics.retries) retries, \(statistics.rejectedFrames) rejected frames")
        }
    },
    Benchmark(name: "controller-noisy-wall",
              summary: "a 4-cabinet wall (32768 LEDs) read over a link dropping and corrupting 0.1% of bytes each way, "
                  + "fixed vs adaptive attempt timeouts, 500 ms (the protocol's) and 100 ms ceilings (2 reads each)") {
        for ceiling in [500, 100] {
            for adaptive in [false, true] {
                print("   attempts \(adaptive ? "adaptive, at most" : "fixed at") \(ceiling) ms:")
                try withEmulator(cabinets: "2x2", extra: ["--seed", "9", "--fault", "flaky-link drop=0.001 corrupt=0.001"],
                                 attemptTimeout: .milliseconds(ceiling)) { client in
                    try await client.withSession { $0.adaptiveTimeouts = adaptive }
                    let identity = try await client.identify()
                    for read in 1...2 {
                        let before = await client.statistics()
                        let start = ContinuousClock.now
                        let map = try await client.readWallStatus(identity: identity)
                        let took = start.duration(to: .now)
                        let after = await client.statistics()
                        precondition(map.faults.isEmpty && map.cabinets.allSatisfy { $0?.count == 8192 }, "wrong data accepted")
                        let chunks = after.requests - before.requests
                        print("     read \(read): \(ms(took)); \(chunks) chunks (\(map.cabinets.count * 8192 / max(1, chunks)) B average), "
                              + "\(after.retries - before.retries) retries, \(after.rejectedFrames - before.rejectedFrames) rejected frames; data exact")
                    }
                }
            }
        }
    },
    controllerFlakyBenchmark,
]

/// The integration test's hopeless link (5 % of bytes dropped and 5 % corrupted, each way):
/// how long each correct GET_PARAM answer takes with fixed and with adaptive attempts.
let controllerFlakyBenchmark = Benchmark(
    name: "controller-flaky-requests",
    summary: "GET_PARAM over flaky-link drop=0.05 corrupt=0.05, 100 ms attempts, 20 re-sends: time per correct answer, fixed vs adaptive"
) {
    for adaptive in [false, true] {
        try withEmulator(cabinets: "2x2", extra: ["--seed", "3", "--fault", "flaky-link drop=0.05 corrupt=0.05"],
                         attemptTimeout: .milliseconds(100), retries: 20) { client in
            try await client.withSession { $0.adaptiveTimeouts = adaptive }
            var correct = 0, failed = 0
            let start = ContinuousClock.now
            while correct < 10 && correct + failed < 200 {
                do {
                    let reading = try await client.parameter(.refreshRate)
                    precondition(reading.value == 3840, "wrong data accepted")
                    correct += 1
                } catch {
                    failed += 1
                }
            }
            let took = start.duration(to: .now)
            let statistics = await client.statistics()
            let attempts = correct + failed + statistics.retries
            print("   attempts \(adaptive ? "adaptive, at most" : "fixed at") 100 ms: \(correct) correct, \(failed) failed "
                  + "requests in \(ms(took)) (\(ms(took / max(1, correct))) a correct answer), \(statistics.retries) re-sends, "
                  + "\(ms(took / max(1, attempts))) an attempt")
        }
    }
}

/// Starts the emulator, opens its PTY through `openPort` (termios), runs `body` with a
/// client, and stops the emulator. Blocks the calling (main) thread until done.
private func withEmulator(cabinets: String, extra: [String] = [], attemptTimeout: Duration? = nil, retries: Int = 8,
                          _ body: @escaping @Sendable (ControllerClient) async throws -> Void) throws {
    let here = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    let executable = try EmulatorProcess.locate(searchFrom: [here, FileManager.default.currentDirectoryPath])
    let emulator = try EmulatorProcess(executable: executable, arguments: ["--cabinets", cabinets] + extra, quiet: true)
    defer { emulator.stop() }
    var logger = Logger(label: "ledsentry.bench")
    logger.logLevel = .warning
    let client = ControllerClient(transport: try openPort(emulator.portPath, logger: logger), retries: retries,
                                  attemptTimeout: attemptTimeout)
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            if retries < 20 { try await client.hello() } // a hopeless link may lose even this
            try await body(client)
        } catch {
            outcome.error = error
        }
        done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
}

/// Carries an error out of the benchmark's task; read only after the semaphore.
private final class Outcome: @unchecked Sendable {
    var error: (any Error)?
}
