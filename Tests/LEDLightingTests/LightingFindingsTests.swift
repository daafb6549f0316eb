import XCTest
import Diagnostics
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
