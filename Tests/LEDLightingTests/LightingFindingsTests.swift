import XCTest
import Diagnostics
import LEDLink
@testable import LEDLighting

/// From emulated faults to warranty Findings: the path a service engineer's session takes.
final class LightingFindingsTests: XCTestCase {
    func testEmulatedFaultsBecomeFindingsTheWarrantyPolicyKnows() throws {
        let emulator = try WidgetEmulator(drivers: 3, seed: 12, faults: ["overtemp:0", "lamp:1", "selftest:2"])
        defer { emulator.stop() }
        let (_, controller) = try emulator.connect()
        let inspector = LightingInspector(controller: controller)
        var findings: [Finding] = []
        for uid in try RDMDiscovery(controller: controller).run().uids {
            let identity = try inspector.identity(uid)
            var issues = LightingRules.issues(uid: uid, sensors: try inspector.sensors(uid))
            issues += LightingRules.issues(status: try inspector.status(uid))
            issues += LightingRules.issues(selfTest: try inspector.selfTest(uid))
            findings += issues.map { Finding($0, port: emulator.portPath, identity: identity) }
        }
        let kinds = Set(findings.map(\.kind))
        XCTAssertTrue(kinds.contains(.overTemperature))
        XCTAssertTrue(kinds.contains(.lampFailure))
        XCTAssertTrue(kinds.contains("lighting-self-test-failed"))
        XCTAssertTrue(findings.allSatisfy { $0.source == .lighting && $0.location.lightingUID != nil })
        let hot = try XCTUnwrap(findings.first { $0.kind == .overTemperature && !$0.measurements.isEmpty })
        XCTAssertGreaterThanOrEqual(hot.measurement("temperature") ?? 0, 97)
        XCTAssertEqual(hot.measurements.first?.limit, 85)
        XCTAssertEqual(hot.measurements.first?.unit, "°C")
        XCTAssertEqual(hot.attributes["model"], "LEDSentry LD-400 4ch LED driver")
    }

    func testVoltageOutsideNormalIsUnderOrOverVoltage() throws {
        var definition = try SensorDefinition(parsing: [2, 0x01, 0x03, 0x01, 0, 0, 0x02, 0x58, 0, 200, 0x02, 0x08, 2])
        definition.description = "Output voltage"
        let low = SensorReading(definition: definition, value: try SensorValue(parsing: [2, 0, 150, 0, 150, 0, 150, 0, 0]))
        let uid = RDMUID(manufacturer: 0x7FF0, device: 9)
        let issue = try XCTUnwrap(LightingRules.issues(uid: uid, sensors: [low]).first)
        XCTAssertEqual(issue.kind, .underVoltage)
        XCTAssertEqual(Finding(issue).kind, .underVoltage)
        XCTAssertEqual(Finding(issue).measurements.first?.limit, 200)
    }
}

/// The whole-line survey in Diagnostics: every fault a finding, a silent driver included.
final class LightingSurveyTests: XCTestCase {
    func testSurveyTurnsEveryFaultIntoAFinding() throws {
        // driver 3 hears ~45 packets during discovery, answers a few reads, then goes quiet
        let emulator = try WidgetEmulator(drivers: 5, seed: 14,
                                          faults: ["overtemp:0", "sensor:1", "selftest:2", "vanish:3@55"],
                                          extra: ["--list"])
        defer { emulator.stop() }
        let uids = try emulator.listedUIDs()
        let (_, controller) = try emulator.connect()
        controller.retries = 1
        let report = try LightingSurvey(controller: controller, port: emulator.portPath,
                                        options: .init(selfTest: 1)).run()
        XCTAssertEqual(report.drivers.count, 5)
        func kinds(_ uid: RDMUID) -> Set<FaultKind> {
            Set(report.findings.filter { $0.location.lightingUID == uid.description }.map(\.kind))
        }
        XCTAssertTrue(kinds(uids[0]).contains(.overTemperature))
        XCTAssertTrue(kinds(uids[1]).contains("lighting-sensor-out-of-range"))
        XCTAssertEqual(kinds(uids[2]), ["lighting-self-test-failed"])
        XCTAssertEqual(kinds(uids[3]), [.fixtureNotResponding])
        XCTAssertEqual(kinds(uids[4]), [])
        XCTAssertTrue(report.findings.allSatisfy { $0.source == .lighting })
    }
}

/// A recorded survey (Tests/Fixtures/lighting) replayed without any emulator: the
/// controller, discovery and rules must reach the same findings from the same bytes.
final class LightingReplayTests: XCTestCase {
    func testRecordedSurveyReplaysToTheSameFindings() throws {
        let fixture = WidgetEmulator.repositoryRoot.appendingPathComponent("Tests/Fixtures/lighting/survey-4-drivers.session")
        // recorded with: ledsentry-emu --mode widget --drivers 4 --seed 7 --fault overtemp:1
        //   --fault selftest:2 --fault sensor:3; ledsentry lighting survey --selftest 1 --record ...
        let widget = USBProWidget(transport: try ReplayTransport(sessionPath: fixture.path))
        try widget.open()
        let report = try LightingSurvey(controller: RDMController(line: widget), port: "replay",
                                        options: .init(selfTest: 1)).run()
        XCTAssertEqual(report.drivers.map(\.uid.description),
                       ["7FF0:30C53F1B", "7FF0:95075D90", "7FF0:B3BC06DB", "7FF0:B821B10F"])
        let found = report.findings.map { "\($0.location.lightingUID!) \($0.kind)" }
        XCTAssertEqual(found, ["7FF0:95075D90 lighting-self-test-failed",
                               "7FF0:B3BC06DB over-temperature", "7FF0:B3BC06DB over-temperature",
                               "7FF0:B821B10F lighting-sensor-out-of-range"])
    }
}
