import Foundation
import LEDLink
import Synchronization
import XCTest
@testable import LEDControllers

/// Runs the built `ledsentry` binary, as a user would, against the real emulator.
final class LinkCLITests: XCTestCase {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    private var binary: String {
        get throws {
            for candidate in [".build/release/ledsentry", ".build/x86_64-unknown-linux-gnu/release/ledsentry",
                              ".build/debug/ledsentry"] {
                let path = repositoryRoot.appendingPathComponent(candidate).path
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            XCTFail("ledsentry is not built: run `swift build -c release -Xswiftc -enable-testing` first")
            throw CocoaError(.fileNoSuchFile)
        }
    }

    private func ledsentry(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            .filter { $0.key != "LEDSENTRY_PORT" || environment["LEDSENTRY_PORT"] != nil }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end before waiting, so a chatty command cannot block on a full pipe.
        let errorData = Mutex<Data>(Data())
        let reader = Thread { errorData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while reader.isExecuting || !reader.isFinished { usleep(1000) }
        return Run(status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
                   stderr: errorData.withLock { String(decoding: $0, as: UTF8.self) })
    }

    func testHelpListsTheLinkCommandsAndExitCodes() throws {
        let run = try ledsentry(["--help"])
        XCTAssertEqual(run.status, 0)
        for command in ["ports", "emulate", "info", "params", "pattern", "modules", "pixels", "events", "demo"] {
            XCTAssertTrue(run.stdout.contains("  \(command)"), "\(command) missing from help:\n\(run.stdout)")
        }
        let pixels = try ledsentry(["pixels", "status", "--help"])
        XCTAssertTrue(pixels.stdout.contains("--port"), pixels.stdout)
        XCTAssertTrue(pixels.stdout.contains("3 device or link error"), pixels.stdout)
    }

    func testABadArgumentIsAUsageErrorNamingTheProblem() throws {
        let run = try ledsentry(["pattern", "plaid", "--port", "/dev/null"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("unknown pattern 'plaid'"), run.stderr)
        let noPort = try ledsentry(["info"])
        XCTAssertNotEqual(noPort.status, 0)
        XCTAssertTrue(noPort.stderr.contains("--port"), noPort.stderr)
    }

    func testAMissingPortIsALinkErrorWithExitThree() throws {
        let run = try ledsentry(["info", "--port", "/dev/ledsentry-no-such-port"])
        XCTAssertEqual(run.status, 3)
        XCTAssertTrue(run.stderr.contains("/dev/ledsentry-no-such-port"), run.stderr)
    }

    func testInfoParamsAndPixelsAgainstTheEmulator() throws {
        let emulator = try startEmulator(smallWall + ["--fault", "stuck-led cabinet=3 x=30 y=1 channel=red"])
        defer { emulator.stop() }

        let info = try ledsentry(["info", "--json", "--port", emulator.portPath])
        XCTAssertEqual(info.status, 0, info.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let identity = try XCTUnwrap(json["identity"] as? [String: Any])
        XCTAssertEqual(identity["model"] as? String, "LS-SC400")
        XCTAssertEqual((json["cabinets"] as? [Any])?.count, 4)

        let set = try ledsentry(["params", "set", "brightness", "500"], environment: ["LEDSENTRY_PORT": emulator.portPath])
        XCTAssertEqual(set.status, 1)
        XCTAssertTrue(set.stderr.contains("OUT_OF_RANGE (brightness must be within 0...100)"), set.stderr)
        XCTAssertTrue(set.stderr.contains(emulator.portPath), set.stderr)

        let get = try ledsentry(["params", "get", "refresh_rate", "--port", emulator.portPath])
        XCTAssertEqual(get.status, 0, get.stderr)
        XCTAssertTrue(get.stdout.contains("refresh_rate"), get.stdout)
        XCTAssertTrue(get.stdout.contains("3840"), get.stdout)

        let pixels = try ledsentry(["pixels", "status", "--port", emulator.portPath])
        XCTAssertEqual(pixels.status, 1, "a failed LED was found: exit 1\n\(pixels.stderr)")
        let row = pixels.stdout.split(separator: "\n").first { $0.hasPrefix("3 ") }.map {
            $0.split(separator: " ").map(String.init)
        }
        XCTAssertEqual(row, ["3", "1", "30", "1", "62", "17", "red", "SHORT"], pixels.stdout)
        XCTAssertTrue(pixels.stderr.contains("reading LED status: 100%"), pixels.stderr)

        let json2 = try ledsentry(["pixels", "status", "--json", "--port", emulator.portPath])
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json2.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((report["faults"] as? [Any])?.count, 1)
    }

    func testRecordWritesASessionThatReplaysTheSameAnswers() async throws {
        let emulator = try startEmulator(smallWall)
        defer { emulator.stop() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ledsentry-cli-\(getpid()).session").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let run = try ledsentry(["params", "get", "gamma", "--json", "--port", emulator.portPath, "--record", file])
        XCTAssertEqual(run.status, 0, run.stderr)
        let replayed = ControllerClient(transport: try ReplayTransport(sessionPath: file))
        let gamma = try await replayed.parameter(.gamma)
        XCTAssertEqual(gamma.value, 220)
        XCTAssertTrue(run.stdout.contains("\"value\" : 220"), run.stdout)
    }

    func testEmulatePrintsItsPortServesItAndStopsOnCtrlC() throws {
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("ledsentry-emulate-\(getpid())").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary)
        process.arguments = ["emulate", "--cabinets", "1x1", "--fault", "dead-module cabinet=0 module=1", "--link", link]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var printed = ""
        let deadline = ContinuousClock.now + .seconds(5)
        while !printed.contains("link:") && ContinuousClock.now < deadline {
            printed += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        }
        XCTAssertTrue(printed.hasPrefix("port: /dev/pts/"), printed)

        let modules = try ledsentry(["modules", "test", "--port", link])
        XCTAssertEqual(modules.status, 1, "a dead module fails its test\n\(modules.stderr)")
        XCTAssertTrue(modules.stdout.contains("3 of 4 modules passed"), modules.stdout)

        process.interrupt()
        let stopBy = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < stopBy { usleep(10_000) }
        XCTAssertFalse(process.isRunning, "Ctrl-C did not stop `ledsentry emulate`")
        if !process.isRunning { XCTAssertEqual(process.terminationStatus, 0) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: link), "the emulator removes its link on exit")
    }

    func testDemoRunsEndToEndAndExitsZero() throws {
        // `demo` is now the whole inspection (Tests/DiagnosticsTests/InspectCLITests.swift tests
        // its cases); here: it runs on the emulator and shows the link's results at their place.
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ledsentry-linkcli-demo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: home) }
        let run = try ledsentry(["demo", "--db", home.appendingPathComponent("warranty.sqlite").path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("== Demo =="), run.stdout)
        XCTAssertTrue(run.stderr.contains("inspect: module test (4/4)"), run.stderr)
        XCTAssertTrue(run.stderr.contains("reading LED status: 100%"), run.stderr)
        XCTAssertTrue(run.stdout.split(separator: "\n").contains { $0.contains("driver-ic-missing") && $0.contains("cabinet 0, module 1") },
                      run.stdout)
    }
}

/// The CLI against a scripted device on a real PTY that answers as another vendor's
/// firmware might: a hostile IDENTIFY, an event type this tool does not know.
extension LinkCLITests {
    private func scriptedDevice(identity: WallGeometry, events: [EventRecord] = []) throws -> HostileDevice {
        try HostileDevice { request, _ in
            let payload: [UInt8]
            switch Command(rawValue: request.command) {
            case .hello: payload = HelloResponse(version: 1, maxPayload: 1024, capabilities: [.eventFrames]).serialized
            case .identify:
                payload = Identity(model: "OTHER", serial: "S-1", firmware: "9.0", hardwareRevision: "Z",
                                   geometry: identity).serialized
            case .readEvents: payload = EventLog(stored: UInt16(events.count), events: events).serialized
            default:
                return Frame(flags: .response, requestID: request.requestID, command: request.command,
                             status: Status.unknownCommand.rawValue).serialized
            }
            return Frame(flags: .response, requestID: request.requestID, command: request.command,
                         payload: payload).serialized
        }
    }

    func testInfoRefusesAHostileIdentityNamingTheFieldInsteadOfQueryingBillionsOfCabinets() throws {
        let device = try scriptedDevice(identity: WallGeometry(cabinetColumns: 65535, cabinetRows: 65535, modulesX: 2,
                                                               modulesY: 2, moduleWidth: 64, moduleHeight: 32))
        defer { device.stop() }
        let start = ContinuousClock.now
        let run = try ledsentry(["info", "--port", device.portPath, "--timeout", "200"])
        XCTAssertEqual(run.status, 3, run.stderr)
        XCTAssertTrue(run.stderr.contains("cabinet_columns x cabinet_rows = 65535 x 65535"), run.stderr)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(10))
    }

    func testEventsShowsAnUnknownTypeByNumber() throws {
        let device = try scriptedDevice(
            identity: WallGeometry(cabinetColumns: 1, cabinetRows: 1, modulesX: 1, modulesY: 1, moduleWidth: 8, moduleHeight: 8),
            events: [EventRecord(sequence: 1, uptimeSeconds: 2, type: .overTemperature, cabinet: 0, value: 800),
                     EventRecord(sequence: 2, uptimeSeconds: 3, type: .unknown(9), cabinet: 0, value: 17)])
        defer { device.stop() }
        let table = try ledsentry(["events", "--port", device.portPath, "--timeout", "200"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("unknown(9)"), table.stdout)
        XCTAssertTrue(table.stdout.contains("80.0 °C"), table.stdout)
        let json = try ledsentry(["events", "--port", device.portPath, "--timeout", "200", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertTrue(json.stdout.contains("\"unknown(9)\""), json.stdout)
        XCTAssertTrue(json.stdout.contains("\"type\" : 9"), json.stdout)
    }
}
