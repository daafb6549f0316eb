import Foundation
import XCTest
import Diagnostics
@testable import LEDLighting

/// The built `ledsentry lighting` commands against the emulated widget: output, JSON and the
/// documented exit codes.
final class LightingCLITests: XCTestCase {
    private static var binary: URL? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return [dir, dir.deletingLastPathComponent()].map { $0.appendingPathComponent("ledsentry") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    private func ledsentry(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        guard let binary = Self.binary else { throw XCTSkip("the ledsentry executable is not built beside the tests") }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LEDSENTRY_LIGHTING_PORT"] = nil
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        killAfter(process, seconds: 60)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testDiscoverSensorsFindingsAndExitCodes() throws {
        let emulator = try WidgetEmulator(drivers: 3, seed: 21, faults: ["overtemp:2"], extra: ["--list"])
        defer { emulator.stop() }
        let uids = try emulator.listedUIDs()
        let port = ["--port", emulator.portPath]

        let discover = try ledsentry(["lighting", "discover", "--json"] + port)
        XCTAssertEqual(discover.status, 0, discover.stderr)
        struct Discovered: Decodable { var uids: [RDMUID]; var drivers: [DriverIdentity] }
        let found = try JSONDecoder().decode(Discovered.self, from: Data(discover.stdout.utf8))
        XCTAssertEqual(found.uids, uids.sorted())
        XCTAssertEqual(found.drivers.count, 3)

        let table = try ledsentry(["lighting", "discover"] + port)
        XCTAssertTrue(table.stdout.hasPrefix("UID"), table.stdout)
        XCTAssertTrue(table.stdout.contains(uids[0].description))

        let healthy = try ledsentry(["lighting", "sensors", uids[0].description] + port)
        XCTAssertEqual(healthy.status, 0, healthy.stdout + healthy.stderr)
        XCTAssertTrue(healthy.stdout.contains("Heatsink temperature"))

        let findingsPath = NSTemporaryDirectory() + "lighting-findings-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: findingsPath) }
        let hot = try ledsentry(["lighting", "sensors", uids[2].description, "--findings", findingsPath] + port)
        XCTAssertEqual(hot.status, 1, "a fault found exits 1")
        XCTAssertTrue(hot.stdout.contains("FAULT \(uids[2]) over-temperature"), hot.stdout)
        let list = try FindingList.decode(Data(contentsOf: URL(fileURLWithPath: findingsPath)))
        XCTAssertEqual(list.findings.map(\.kind), [.overTemperature])
        XCTAssertEqual(list.findings.first?.location.lightingUID, uids[2].description)

        // the whole line at once: every driver's sensors, the hot one flagged
        let sweep = try ledsentry(["lighting", "sensors", "--json"] + port)
        XCTAssertEqual(sweep.status, 1)
        struct Sweep: Decodable { struct Driver: Decodable { var uid: RDMUID; var sensors: [SensorReading] }
                                  var drivers: [Driver]; var issues: [LightingIssue] }
        let swept = try JSONDecoder().decode(Sweep.self, from: Data(sweep.stdout.utf8))
        XCTAssertEqual(swept.drivers.map(\.uid), uids.sorted())
        XCTAssertTrue(swept.drivers.allSatisfy { $0.sensors.count == 3 })
        XCTAssertEqual(swept.issues.map(\.uid), [uids[2]])

        let status = try ledsentry(["lighting", "status", "--json"] + port)
        XCTAssertEqual(status.status, 1)
        XCTAssertTrue(status.stdout.contains("over temperature"), status.stdout)

        let set = try ledsentry(["lighting", "set", uids[0].description, "dmx_start_address", "37"] + port)
        XCTAssertEqual(set.status, 0, set.stderr)
        let get = try ledsentry(["lighting", "get", uids[0].description, "dmx_start_address", "--json"] + port)
        XCTAssertTrue(get.stdout.contains("\"value\" : 37"), get.stdout)
        let refused = try ledsentry(["lighting", "set", uids[0].description, "dmx_start_address", "513"] + port)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("refused: data out of range"), refused.stderr)

        // DMX levels go out as one label-6 frame (seen in the recorded session)
        let session = NSTemporaryDirectory() + "lighting-dmx-\(getpid()).txt"
        defer { try? FileManager.default.removeItem(atPath: session) }
        let dmx = try ledsentry(["lighting", "dmx", "1=255", "2-3=7", "--record", session] + port)
        XCTAssertEqual(dmx.status, 0, dmx.stderr)
        XCTAssertTrue(try String(contentsOfFile: session, encoding: .utf8).contains("> 7e 06 04 00 00 ff 07 07 e7"))

        let selftest = try ledsentry(["lighting", "selftest", uids[1].description] + port)
        XCTAssertEqual(selftest.status, 0, selftest.stderr)
        XCTAssertTrue(selftest.stdout.contains("PASSED"), selftest.stdout)
    }

    func testBadArgumentsAndMissingDevices() throws {
        let badUID = try ledsentry(["lighting", "info", "7FF0-1", "--port", "/dev/null"])
        XCTAssertEqual(badUID.status, 2)
        XCTAssertTrue(badUID.stderr.contains("is not a UID"), badUID.stderr)
        let badPID = try ledsentry(["lighting", "get", "7FF0:00000001", "warp_drive", "--port", "/dev/null"])
        XCTAssertEqual(badPID.status, 2)
        let badValue = try ledsentry(["lighting", "set", "7FF0:00000001", "identify_device", "sometimes", "--port", "/dev/null"])
        XCTAssertEqual(badValue.status, 2)
        let noPort = try ledsentry(["lighting", "discover"])
        XCTAssertEqual(noPort.status, 2)
        XCTAssertTrue(noPort.stderr.contains("--port"), noPort.stderr)
        let missing = try ledsentry(["lighting", "discover", "--port", "/dev/ttyUSB-not-here", "--json"])
        XCTAssertEqual(missing.status, 3)
        XCTAssertTrue(missing.stdout.contains("\"error\""), missing.stdout)
        let help = try ledsentry(["lighting", "--help"])
        XCTAssertTrue(help.stdout.contains("Exit codes"), help.stdout)
        XCTAssertTrue(help.stdout.contains("selftest"))
    }
}
