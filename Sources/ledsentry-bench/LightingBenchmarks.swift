import Foundation
import LEDLighting
import LEDLink

/// Lighting: full RDM discovery and a sensor sweep of 32 emulated drivers, through the
/// real stack (USB-Pro framing over a PTY to `ledsentry-emu --mode widget`).
/// `ledsentry-bench lighting [discovery] [sensors]`.
let lightingBenchmarks: [Benchmark] = [
    Benchmark(name: "discovery", summary: "full RDM discovery of 32 drivers (random UIDs, and 2 adjacent)") {
        for (label, faults) in [("random UIDs", [String]()), ("two adjacent UIDs", ["collide:1"])] {
            let emulator = try BenchEmulator(drivers: 32, faults: faults)
            defer { emulator.stop() }
            let controller = try emulator.controller()
            var report: DiscoveryReport?
            let times = try timed(20) { report = try RDMDiscovery(controller: controller).run() }
            guard let report, report.uids.count == 32 else { throw BenchError("discovery found \(report?.uids.count ?? 0) of 32") }
            print("   \(label): median \(ms(times[times.count / 2])), min \(ms(times[0])), max \(ms(times[times.count - 1])) over 20 runs; \(report.branches) DUBs, \(report.collisions) collisions, \(report.uids.count) mutes")
        }
    },
    Benchmark(name: "sensors", summary: "sensor sweep of 32 drivers (DEVICE_INFO + 3 x SENSOR_DEFINITION/SENSOR_VALUE each)") {
        let emulator = try BenchEmulator(drivers: 32, faults: [])
        defer { emulator.stop() }
        let controller = try emulator.controller()
        let uids = try RDMDiscovery(controller: controller).run().uids
        let inspector = LightingInspector(controller: controller)
        var readings = 0
        let times = try timed(10) {
            readings = 0
            for uid in uids { readings += try inspector.sensors(uid).count }
        }
        let requests = uids.count * 7
        let median = times[times.count / 2]
        print("   \(uids.count) drivers, \(readings) readings, \(requests) GETs: median \(ms(median)), min \(ms(times[0])), max \(ms(times[times.count - 1])) over 10 sweeps; \(ms(median / requests)) per GET round trip")
    },
]

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The widget emulator as a child process (found beside the sources, or $LEDSENTRY_EMU).
final class BenchEmulator {
    let process = Process()
    let port: String

    init(drivers: Int, faults: [String]) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = ProcessInfo.processInfo.environment["LEDSENTRY_EMU"] ?? root.appendingPathComponent("Firmware/build/ledsentry-emu").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchError("\(path) not built: run `make -C Firmware` first")
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--mode", "widget", "--drivers", String(drivers), "--seed", "1"] + faults.flatMap { ["--fault", $0] }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        // the first line names the port; give up after 5 s rather than wait forever
        var text = ""
        let deadline = ContinuousClock.now + .seconds(5)
        var descriptor = pollfd(fd: pipe.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while !text.contains("\n"), ContinuousClock.now < deadline, poll(&descriptor, 1, 100) >= 0 {
            guard descriptor.revents != 0 else { continue }
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.hasPrefix("port: "), let line = text.split(separator: "\n").first else {
            process.terminate()
            throw BenchError("emulator did not start: \(text)")
        }
        port = String(line.dropFirst(6))
    }

    func controller() throws -> RDMController {
        let widget = USBProWidget(transport: try TermiosTransport(path: port))
        try widget.open()
        return RDMController(line: widget)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
