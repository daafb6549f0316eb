import Foundation
import Warranty
import XCTest

/// The built `ledsentry inspect` and `ledsentry demo`, as a user runs them.
final class InspectCLITests: XCTestCase {
    struct Output: Decodable {
        struct Warranty: Decodable {
            struct Line: Decodable {
                var id: Int64
                var action: String
                var kind: String
                var location: String
                var faultClass: String
                var service: String
                var clause: String
                var bundle: String?
                var annotatedImages: [String]
            }
            var cases: [Line]
        }
        var warranty: Warranty
    }

    func testDemoOpensCasesOnceAndUpdatesThemOnTheSecondRun() throws {
        let home = try temporaryDirectory(self, "demo")
        let db = home.appendingPathComponent("demo/warranty.sqlite").path
        let first = try CLIRun.run(["demo", "--json", "--db", db])
        XCTAssertEqual(first.status, 0, first.stderr)
        let opened = try JSONDecoder().decode(Output.self, from: Data(first.stdout.utf8)).warranty.cases
        XCTAssertFalse(opened.isEmpty)
        XCTAssertTrue(opened.allSatisfy { $0.action == "opened" }, "\(opened.map(\.action))")
        // Each case says what the policy decided and where its evidence is.
        let byKind = Dictionary(opened.map { ($0.kind, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(Set(byKind.keys), ["out-of-control-leds", "dead-line", "dead-module", "data-chain-broken", "driver-ic-missing",
                                          "calibration-checksum", "over-temperature"])
        XCTAssertEqual(byKind["over-temperature"]?.faultClass, "safety")
        XCTAssertEqual(byKind["over-temperature"]?.service, "on-site")
        XCTAssertEqual(byKind["data-chain-broken"]?.service, "remote-guidance")
        XCTAssertEqual(byKind["data-chain-broken"]?.clause, "3.2.1")
        XCTAssertEqual(byKind["dead-module"]?.service, "return-repair")
        XCTAssertEqual(byKind["calibration-checksum"]?.faultClass, "quality")
        for line in opened {
            let bundle = try XCTUnwrap(line.bundle)
            XCTAssertTrue(FileManager.default.fileExists(atPath: bundle), bundle)
            XCTAssertFalse(line.annotatedImages.isEmpty, "\(line.kind) has no annotated picture")
        }
        XCTAssertEqual(try CLIRun.run(["cases", "verify", opened[0].bundle!]).status, 0)

        // The second run, in its human form: every case updated, none opened, no new case in the store.
        let second = try CLIRun.run(["demo", "--db", db])
        XCTAssertEqual(second.status, 0, second.stderr)
        let rows = second.stdout.split(separator: "\n").filter { $0.hasPrefix("CASE-") && !$0.contains("bundle") }
        XCTAssertEqual(rows.count, opened.count, second.stdout)
        XCTAssertTrue(rows.allSatisfy { $0.split(separator: " ", omittingEmptySubsequences: true)[1] == "updated" }, second.stdout)
        let cases = try WarrantyStore(path: URL(fileURLWithPath: db)).cases(.init())
        XCTAssertEqual(Set(cases.map(\.id)), Set(opened.map(\.id)))
        XCTAssertTrue(cases.allSatisfy { $0.occurrences == 2 })
        // It ends with the cases, their bundles and pictures.
        for text in ["dead-module", "return-repair", "3.2.2", ".zip", "annotated pictures in the bundle: evidence/annotated-white.png"] {
            XCTAssertTrue(second.stdout.contains(text), "\(text) missing from:\n\(second.stdout)")
        }
        XCTAssertTrue(second.stderr.contains("inspect: pattern black"), second.stderr)
    }

    func testInspectRefusesBadUseClearly() throws {
        let home = try temporaryDirectory(self, "inspect-cli")
        let db = home.appendingPathComponent("warranty.sqlite")
        let frame = home.appendingPathComponent("frame.ppm")
        let emulator = try startInspectEmulator(frameFile: frame, faults: ["dead-led cabinet=0 x=1 y=1"])
        defer { emulator.stop() }

        // Two capture sources: a usage error.
        let both = try CLIRun.run(["inspect", "--port", emulator.portPath, "--product", "W", "--db", db.path,
                                   "--captures", home.path, "--camera", "gphoto2 --filename {out}"])
        XCTAssertEqual(both.status, 2, both.stderr)
        XCTAssertTrue(both.stderr.contains("only one of --captures, --camera and --simulated-camera"), both.stderr)
        let noOut = try CLIRun.run(["inspect", "--port", emulator.portPath, "--product", "W", "--camera", "gphoto2"])
        XCTAssertEqual(noOut.status, 2)
        XCTAssertTrue(noOut.stderr.contains("{out}"), noOut.stderr)
        let badResponse = try CLIRun.run(["inspect", "--port", emulator.portPath, "--product", "W", "--response", "gamma"])
        XCTAssertEqual(badResponse.status, 2)
        XCTAssertTrue(badResponse.stderr.contains("--response must be linear or srgb, not 'gamma'"), badResponse.stderr)

        // A product the registry does not know: refused before the wall is touched.
        let unknown = try CLIRun.run(["inspect", "--port", emulator.portPath, "--product", "NOPE", "--db", db.path])
        XCTAssertEqual(unknown.status, 1, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("product NOPE is not in the product registry"), unknown.stderr)

        try WarrantyStore(path: db).addProduct(Product(serial: "W", model: "LS", warrantyCardNumber: "C1", customer: "C",
                                                       contractDate: "2026-06-01", screenWidth: 128, screenHeight: 64))
        let badCamera = try CLIRun.run(["inspect", "--port", emulator.portPath, "--product", "W", "--db", db.path,
                                        "--camera", "echo 'camera not found' >&2; exit 7 # {out}"])
        XCTAssertEqual(badCamera.status, 3, badCamera.stderr)
        XCTAssertTrue(badCamera.stderr.contains("capture of the white pattern: the camera command failed with exit status 7"), badCamera.stderr)
        XCTAssertTrue(badCamera.stderr.contains("camera not found"), badCamera.stderr)
        XCTAssertEqual(try WarrantyStore(path: db).cases(.init()).count, 0, "a failed inspection opens no case")

        let noPort = try CLIRun.run(["inspect", "--port", home.appendingPathComponent("no-such-port").path, "--product", "W", "--db", db.path])
        XCTAssertEqual(noPort.status, 3, noPort.stderr)

        // Electrical only, then with the simulated camera: one dead LED is within nothing (1 in 8192 > 1 in 10,000).
        let run = try CLIRun.run(["inspect", "--port", emulator.portPath, "--product", "W", "--db", db.path, "--simulated-camera", frame.path])
        XCTAssertEqual(run.status, 1, "faults found: exit 1\n" + run.stderr)
        XCTAssertTrue(run.stdout.contains("out-of-control-leds"), run.stdout)
        XCTAssertTrue(run.stdout.contains("opened"), run.stdout)
    }

    func testAControllerUnpluggedMidInspectionIsALinkErrorAndOpensNothing() throws {
        let home = try temporaryDirectory(self, "inspect-unplug")
        let db = home.appendingPathComponent("warranty.sqlite")
        let frame = home.appendingPathComponent("frame.ppm")
        try WarrantyStore(path: db).addProduct(Product(serial: "W", model: "LS", warrantyCardNumber: "C1", customer: "C",
                                                       contractDate: "2026-06-01"))
        let emulator = try startInspectEmulator(frameFile: frame, faults: ["dead-module cabinet=0 module=1", "unplug-after seconds=1"])
        defer { emulator.stop() }
        let run = try CLIRun.run(["inspect", "--port", emulator.portPath, "--product", "W", "--db", db.path,
                                  "--simulated-camera", frame.path])
        XCTAssertEqual(run.status, 3, run.stderr)
        XCTAssertTrue(run.stderr.contains("error: \(emulator.portPath)"), run.stderr)
        XCTAssertEqual(try WarrantyStore(path: db).cases(.init()).count, 0, "an interrupted inspection opens no case")
        // What was read before the unplug is kept, with the log.
        let runs = try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("runs").path)
        XCTAssertEqual(runs.count, 1)
        let log = try String(contentsOfFile: home.appendingPathComponent("runs/\(runs[0])/inspect.log").path, encoding: .utf8)
        XCTAssertTrue(log.contains("connecting to"), log)
    }
}
