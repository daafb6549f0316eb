import Diagnostics
import Foundation
import FrameAnalysis
import LEDControllers
import LEDLink
import XCTest

/// The inspect session against the live emulator over a real PTY, with the simulated camera
/// rendering what the emulator's wall emits (`--frame-out`).
final class InspectSessionTests: XCTestCase {
    /// Every injected fault, where it must be found (wall coordinates; cabinets 64x32 LEDs).
    let expected: Set<String> = [
        "dead-led cabinet=0/module=1/led=50,5",                 // dead-led cabinet=0 x=50 y=5
        "dead-subpixel cabinet=3/module=0/led=84,35/channel=0", // dead-led cabinet=3 x=20 y=3 channel=red
        "stuck-led cabinet=0/module=1/led=60,10/channel=1",     // stuck-led cabinet=0 x=60 y=10 channel=green
        "dim-led cabinet=3/module=0/led=74,40",                 // dim-led cabinet=3 x=10 y=8 level=45
        "dead-line cabinet=1/row=12",                           // dead-row cabinet=1 y=12 (x 64-127)
        "dead-module cabinet=2/module=0",
        "data-chain-broken cabinet=3/module=1",                 // chain-break cabinet=3 after=1
        "driver-ic-missing cabinet=0/module=1",
        "calibration-checksum cabinet=3/module=0",
        "over-temperature cabinet=0",
    ]

    func summary(_ findings: [Finding]) -> Set<String> {
        Set(findings.map { "\($0.kind.rawValue) \($0.location.canonical)" })
    }

    func finding(_ report: InspectReport, _ kind: FaultKind, _ canonical: String) throws -> Finding {
        try XCTUnwrap(report.findings.findings.first { $0.kind == kind && $0.location.canonical == canonical },
                      "\(kind) at \(canonical)")
    }

    func seenBy(_ finding: Finding) -> Set<String> {
        Set((finding.attributes[FindingMerger.seenByKey] ?? "").split(separator: ",").map(String.init))
    }

    func testEveryInjectedFaultIsFoundAtItsPlaceThenAgainFromUserCaptures() async throws {
        let directory = try temporaryDirectory(self, "inspect-session")
        let frame = directory.appendingPathComponent("frame.ppm")
        let emulator = try startInspectEmulator(frameFile: frame)
        defer { emulator.stop() }

        let stages = StageRecorder()
        var options = InspectOptions()
        options.productSerial = "WALL-1"
        let evidence = directory.appendingPathComponent("run1")
        // One session at a time: the port is opened exclusively, and closed when the session goes.
        let report = try await InspectSession(
            transport: try TermiosTransport(path: emulator.portPath),
            camera: { SimulatedCamera(frameFile: frame, wall: $0.ledGrid, moduleSize: $0.moduleGrid) },
            evidenceDirectory: evidence, options: options, progress: stages.record).run()

        XCTAssertEqual(summary(report.findings.findings), expected,
                       "extra: \(summary(report.findings.findings).subtracting(expected)), missing: \(expected.subtracting(summary(report.findings.findings)))")
        XCTAssertEqual(report.findings.screen, FindingList.ScreenSize(width: 128, height: 64))
        XCTAssertEqual(report.findings.productSerial, "WALL-1")
        XCTAssertEqual(report.failedCaptures, 0, "\(report.captures)")
        XCTAssertTrue(report.findings.findings.allSatisfy { $0.location.productSerial == "WALL-1" })

        // Electrical and optical evidence of the same LED in one finding.
        let dead = try finding(report, .deadLED, "cabinet=0/module=1/led=50,5")
        XCTAssertTrue(seenBy(dead).isSuperset(of: ["electrical", "optical:white", "optical:red", "optical:green", "optical:blue"]), "\(seenBy(dead))")
        XCTAssertEqual(Set(dead.evidence.map(\.name)).intersection(["led-status.json", "capture-white.png", "annotated-white.png"]).count, 3)
        XCTAssertTrue(seenBy(try finding(report, .deadSubpixel, "cabinet=3/module=0/led=84,35/channel=0")).isSuperset(of: ["electrical", "optical:red"]))
        XCTAssertTrue(seenBy(try finding(report, .stuckLED, "cabinet=0/module=1/led=60,10/channel=1")).isSuperset(of: ["electrical", "optical:black"]))
        XCTAssertTrue(seenBy(try finding(report, .dimLED, "cabinet=3/module=0/led=74,40")).isSuperset(of: ["electrical", "optical:white"]))
        let row = try finding(report, .deadLine, "cabinet=1/row=12")
        XCTAssertEqual(row.measurement("length"), 64)
        XCTAssertTrue(seenBy(row).isSuperset(of: ["electrical", "optical:white"]))
        // Module faults: the module test, confirmed by the captures.
        let module = try finding(report, .deadModule, "cabinet=2/module=0")
        XCTAssertGreaterThanOrEqual(module.measurement("LEDs dark in the white capture") ?? 0, 0.9 * 512)
        let chain = try finding(report, .dataChainBroken, "cabinet=3/module=1")
        XCTAssertEqual(chain.attributes["first_dark_module"], "2")
        XCTAssertGreaterThanOrEqual(chain.measurement("LEDs dark in the white capture") ?? 0, 0.9 * 1024)
        let ic = try finding(report, .driverICMissing, "cabinet=0/module=1")
        XCTAssertEqual(ic.attributes["channel"], "blue")   // IC 2 drives blue
        XCTAssertEqual(ic.attributes["module-columns"], "0-15")
        let heat = try finding(report, .overTemperature, "cabinet=0")
        XCTAssertEqual(heat.measurement("temperature"), 85)
        XCTAssertTrue(seenBy(heat).isSuperset(of: ["telemetry"]))

        // Evidence files, all on disk.
        let names = Set(report.evidence.map(\.name))
        for name in ["link-session.rec", "parameters.json", "module-test.json", "led-status.json", "telemetry-events.json", "inspect.log"]
            + ["white", "red", "green", "blue", "black"].flatMap({ ["capture-\($0).png", "annotated-\($0).png"] }) {
            XCTAssertTrue(names.contains(name), name)
        }
        for file in report.evidence { XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), file.path) }
        // The findings file `cases ingest --findings` reads holds the same findings.
        let saved = try FindingList.decode(Data(contentsOf: evidence.appendingPathComponent("findings.json")))
        XCTAssertEqual(summary(saved.findings), expected)
        XCTAssertEqual(saved.screen, report.findings.screen)
        let recording = try String(contentsOfFile: evidence.appendingPathComponent("link-session.rec").path, encoding: .utf8)
        XCTAssertGreaterThan(recording.split(separator: "\n").count, 50)
        XCTAssertTrue(stages.stages.contains { $0.hasPrefix("pattern black") }, "\(stages.stages)")
        XCTAssertTrue(stages.stages.contains("reading LED status"))

        // The same captures as files a user brings: the white one as a binary PPM, the rest PNG.
        let userCaptures = directory.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: userCaptures, withIntermediateDirectories: true)
        for pattern in ["red", "green", "blue", "black"] {
            try FileManager.default.copyItem(at: evidence.appendingPathComponent("capture-\(pattern).png"),
                                             to: userCaptures.appendingPathComponent("\(pattern).png"))
        }
        let (white, _) = try ImageFiles.read(path: evidence.appendingPathComponent("capture-white.png").path)
        try ImageFiles.write(white, to: userCaptures.appendingPathComponent("white.ppm").path)
        let second = try await InspectSession(
            transport: try TermiosTransport(path: emulator.portPath),
            camera: { _ in DirectoryCaptures(directory: userCaptures) },
            evidenceDirectory: directory.appendingPathComponent("run2"), options: options).run()
        XCTAssertEqual(summary(second.findings.findings), expected)
        XCTAssertEqual(second.captures.map(\.capture).map { ($0! as NSString).lastPathComponent },
                       ["white.ppm", "red.png", "green.png", "blue.png", "black.png"])
        XCTAssertTrue(second.evidence.contains(EvidenceFile(path: userCaptures.appendingPathComponent("white.ppm").path, role: .capture)))
    }

    func testAMissingUserCaptureOrABadCameraCommandIsAClearError() async throws {
        let directory = try temporaryDirectory(self, "inspect-bad-camera")
        let frame = directory.appendingPathComponent("frame.ppm")
        let emulator = try startInspectEmulator(frameFile: frame, faults: [])
        defer { emulator.stop() }

        func inspect(_ camera: any CaptureSource) async throws -> InspectReport {
            try await InspectSession(transport: try TermiosTransport(path: emulator.portPath), camera: { _ in camera },
                                     evidenceDirectory: directory.appendingPathComponent(UUID().uuidString)).run()
        }
        do {
            _ = try await inspect(CommandCamera(template: "echo 'no camera found' >&2; exit 3 # {out}"))
            XCTFail("a failing camera command must fail the inspection")
        } catch let error as InspectError {
            guard case .capture("white", .commandFailed(_, 3, let output)) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(output, "no camera found")
            XCTAssertTrue(error.description.contains("exit status 3"), error.description)
        }
        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        do {
            _ = try await inspect(DirectoryCaptures(directory: empty))
            XCTFail("a missing capture must fail the inspection")
        } catch let error as InspectError {
            guard case .capture("white", .missingCapture) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(error.description.contains("no capture of the white pattern in \(empty.path)"), error.description)
        }
    }

    func testElectricalOnlyInspectionCanClearTheEventLogItSaved() async throws {
        let directory = try temporaryDirectory(self, "inspect-events")
        let emulator = try startInspectEmulator(frameFile: directory.appendingPathComponent("frame.ppm"),
                                                faults: ["over-temperature cabinet=1 celsius=80"])
        defer { emulator.stop() }
        var options = InspectOptions()
        options.clearEvents = true
        func inspect(_ name: String) async throws -> (InspectReport, EvidenceDocuments.Health) {
            let report = try await InspectSession(transport: try TermiosTransport(path: emulator.portPath), camera: { _ in nil },
                                                  evidenceDirectory: directory.appendingPathComponent(name), options: options).run()
            let health = try JSONDecoder().decode(EvidenceDocuments.Health.self, from: Data(
                contentsOf: directory.appendingPathComponent(name).appendingPathComponent("telemetry-events.json")))
            return (report, health)
        }
        let (first, firstHealth) = try await inspect("run1")
        XCTAssertTrue(firstHealth.events.contains { $0.type == .overTemperature && $0.cabinet == 1 }, "\(firstHealth.events)")
        let heat = try finding(first, .overTemperature, "cabinet=1")
        XCTAssertEqual(heat.measurement("logged events"), 1)
        XCTAssertEqual(heat.measurement("temperature"), 80)
        XCTAssertTrue(first.notes.contains { $0.hasPrefix("no camera") })
        XCTAssertTrue(first.captures.isEmpty)

        // The log was cleared: the second run sees the alarm in telemetry only.
        let (second, secondHealth) = try await inspect("run2")
        XCTAssertFalse(secondHealth.events.contains { $0.type == .overTemperature }, "\(secondHealth.events)")
        let still = try finding(second, .overTemperature, "cabinet=1")
        XCTAssertNil(still.measurement("logged events"))
        XCTAssertEqual(still.measurement("temperature"), 80)
    }

    func testCameraCommandsAreRunWithTheirOutputPathAndADeadline() async throws {
        let directory = try temporaryDirectory(self, "camera-command")
        let picture = directory.appendingPathComponent("source.png")
        try ImageFiles.write(Image(width: 4, height: 4, channels: 1, bitDepth: 8), to: picture.path)
        let copied = try await CommandCamera(template: "cp \(picture.path) {out} && test {pattern} = red").capture(.red, into: directory)
        XCTAssertEqual(copied.lastPathComponent, "capture-red.jpg")
        XCTAssertEqual(try Data(contentsOf: copied), try Data(contentsOf: picture))

        do {
            _ = try await CommandCamera(template: "true {out}").capture(.white, into: directory)
            XCTFail("a command that writes nothing must fail")
        } catch {
            guard case .commandWroteNothing = error else { return XCTFail("\(error)") }
        }
        let started = ContinuousClock.now
        do {
            _ = try await CommandCamera(template: "sleep 20 # {out}", timeout: .seconds(1)).capture(.white, into: directory)
            XCTFail("a hanging command must be stopped")
        } catch {
            guard case .commandTimedOut(_, 1) = error else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10))
    }
}

/// Collects progress stages (the session calls back from its own tasks).
final class StageRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    var stages: [String] { lock.withLock { recorded } }
    func record(_ progress: InspectProgress) { lock.withLock { recorded.append(progress.stage) } }
}
