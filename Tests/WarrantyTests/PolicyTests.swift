import Diagnostics
import Foundation
import XCTest
@testable import Warranty

/// Every rule of the built-in policy, clause by clause.
final class PolicyTests: XCTestCase {
    var engine: PolicyEngine!
    let day = Product.parseDate("2026-11-25")!

    override func setUpWithError() throws {
        engine = PolicyEngine(policy: try WarrantyPolicy.builtIn())
    }

    func product(_ mutate: (inout Product) -> Void = { _ in }) -> Product {
        var p = Product(serial: "KJ-P3-0001", model: "KJ-P3.9 outdoor", warrantyCardNumber: "WC-7781",
                        customer: "Stadium Ltd", contractDate: "2025-06-01", warrantyMonths: 24,
                        contactName: "Li Wei", contactPhone: "+86 23 5555 0101",
                        screenWidth: 1000, screenHeight: 500)
        mutate(&p)
        return p
    }

    func finding(_ kind: FaultKind, _ location: FaultLocation = FaultLocation(), source: Finding.Source = .electrical) -> Finding {
        Finding(source: source, location: location, kind: kind)
    }

    // MARK: Clause 1 and 2

    func testInWarrantyFromContractPeriod() {
        let scope = engine.scope(of: product(), on: day)
        XCTAssertEqual(scope.status, .inWarranty)
        XCTAssertEqual(scope.warrantyEnds, "2027-06-01")
        XCTAssertEqual(scope.clause, "2")
    }

    func testOutOfWarrantyAfterContractPeriod() {
        let scope = engine.scope(of: product { $0.warrantyMonths = 12 }, on: day)
        XCTAssertEqual(scope.status, .outOfWarranty)
        XCTAssertEqual(scope.warrantyEnds, "2026-06-01")
        XCTAssertTrue(scope.explanation.contains("charged"))
    }

    func testPolicyDefaultPeriodWhenContractNamesNone() {
        let scope = engine.scope(of: product { $0.warrantyMonths = nil; $0.contractDate = "2024-12-01" }, on: day)
        XCTAssertEqual(scope.warrantyEnds, "2026-12-01")  // 24 months default
        XCTAssertEqual(scope.status, .inWarranty)
    }

    func testNotBoughtDirectlyIsNotCovered() {
        let scope = engine.scope(of: product { $0.purchasedDirect = false }, on: day)
        XCTAssertEqual(scope.status, .notCovered)
        XCTAssertEqual(scope.clause, "1")
    }

    func testMissingCardAndContactAreNamed() {
        let missing = engine.missingDocuments(of: product { $0.warrantyCardNumber = nil; $0.contactPhone = nil })
        XCTAssertEqual(missing.count, 2)
        XCTAssertEqual(missing.map(\.item), [.warrantyDocument, .contact])
        XCTAssertTrue(missing[0].text.contains("warranty card number or the order number"))
        XCTAssertTrue(missing[1].text.contains("contact person"))
        XCTAssertEqual(engine.missingDocuments(of: product { $0.warrantyCardNumber = nil; $0.orderNumber = "SO-1" }), [])
    }

    // MARK: Clause 3.1

    func testFaultClasses() {
        for kind in [FaultKind.overTemperature, .underVoltage, .overVoltage, .shortCircuit] {
            XCTAssertEqual(engine.faultClass(for: kind).class, .safety, kind.rawValue)
            XCTAssertEqual(engine.faultClass(for: kind).clause, "3.1.3")
        }
        for kind in [FaultKind.calibrationChecksum, .driverICMissing] {
            XCTAssertEqual(engine.faultClass(for: kind).class, .quality, kind.rawValue)
        }
        for kind in [FaultKind.deadModule, .deadLine, .deadCabinet, PolicyEngine.outOfControlLEDs, .looseCable] {
            XCTAssertEqual(engine.faultClass(for: kind).class, .performance, kind.rawValue)
        }
        XCTAssertEqual(engine.faultClass(for: "something-new").class, .performance)
        XCTAssertFalse(engine.faultClass(for: .overTemperature).reason.isEmpty)
    }

    func testLEDRateBelowWholeScreenLimitIsTolerated() {
        // 500,000 LEDs: limit 50 (1/10,000); 40 spread out stays inside, also per region.
        let leds = (0..<40).map { i in finding(.deadLED, FaultLocation(led: .init(x: (i % 10) * 100, y: (i / 10) * 120)), source: .optical) }
        let a = engine.assess(findings: leds, product: product(), on: day)
        XCTAssertTrue(a.faults.isEmpty)
        XCTAssertEqual(a.tolerated.count, 40)
    }

    func testLEDRateAboveWholeScreenLimitOpensOneFault() {
        let leds = (0..<60).map { i in finding(.deadLED, FaultLocation(led: .init(x: (i % 10) * 100, y: (i / 10) * 80)), source: .optical) }
        let a = engine.assess(findings: leds, product: product(), on: day)
        XCTAssertEqual(a.faults.count, 1)
        XCTAssertEqual(a.faults[0].kind, PolicyEngine.outOfControlLEDs)
        XCTAssertEqual(a.faults[0].faultClass.class, .performance)
        XCTAssertTrue(a.faults[0].summary.contains("60 of 500000"))
    }

    func testWorstRegionLimit() {
        // 4 failed LEDs in one 100x100 region: 4/10,000 > 3/10,000, though the screen rate is tiny.
        let leds = [(10, 10), (50, 50), (90, 20), (30, 99)].map { finding(.stuckLED, FaultLocation(led: .init(x: 200 + $0.0, y: 100 + $0.1))) }
        let a = engine.assess(findings: leds, product: product(), on: day)
        XCTAssertEqual(a.faults.count, 1)
        XCTAssertTrue(a.faults[0].summary.contains("100x100 region"), a.faults[0].summary)
        XCTAssertEqual(a.faults[0].measurements.first { $0.name == "worst-region-leds" }?.value, 4)
        // Three are allowed.
        let three = engine.assess(findings: Array(leds.prefix(3)), product: product(), on: day)
        XCTAssertTrue(three.faults.isEmpty)
    }

    func testSameLEDSeenTwiceCountsOnce() {
        let leds = (0..<4).map { _ in finding(.deadLED, FaultLocation(led: .init(x: 5, y: 5))) }
        let a = engine.assess(findings: leds, product: product(), on: day)
        XCTAssertTrue(a.faults.isEmpty)
    }

    func testUnknownScreenSizeIsNotJudgedButSaid() {
        let a = engine.assess(findings: [finding(.deadLED, FaultLocation(led: .init(x: 1, y: 1)))],
                              product: product { $0.screenWidth = nil }, on: day)
        XCTAssertTrue(a.faults.isEmpty)
        XCTAssertTrue(a.notes[0].contains("screen size is unknown"))
    }

    func testISOClassFromContract() {
        let iso = PerformanceStandard(standard: .iso13406_2, isoClass: .II)
        // 0.5 Mpixel: class II allows floor(2*0.5)=1 always-dark pixel.
        let one = [finding(.deadLED, FaultLocation(led: .init(x: 1, y: 1)))]
        let two = one + [finding(.deadLED, FaultLocation(led: .init(x: 900, y: 400)))]
        XCTAssertTrue(engine.assess(findings: one, product: product { $0.performanceStandard = iso }, on: day).faults.isEmpty)
        let a = engine.assess(findings: two, product: product { $0.performanceStandard = iso }, on: day)
        XCTAssertEqual(a.faults.count, 1)
        XCTAssertTrue(a.faults[0].summary.contains("ISO 13406-2"))
        XCTAssertTrue(a.standard.contains("class II"))
    }

    func testAnyDeadLineAndModuleBreaksDefaultStandard() {
        let a = engine.assess(findings: [finding(.deadLine, FaultLocation(cabinet: 1, module: 3, line: .init(axis: .row, index: 17))),
                                         finding(.deadModule, FaultLocation(cabinet: 2, module: 5))],
                              product: product(), on: day)
        XCTAssertEqual(Set(a.faults.map(\.kind)), [.deadLine, .deadModule])
    }

    func testContractMayTolerateADeadModule() {
        let lenient = PerformanceStandard(deadModulesAllowed: 1)
        let a = engine.assess(findings: [finding(.deadModule, FaultLocation(cabinet: 2, module: 5))],
                              product: product { $0.performanceStandard = lenient }, on: day)
        XCTAssertTrue(a.faults.isEmpty)
        XCTAssertEqual(a.tolerated.count, 1)
    }

    // MARK: Clause 3.2

    func testSafetyGoesOnSite() {
        let a = engine.assess(findings: [finding(.overTemperature, FaultLocation(cabinet: 3))], product: product(), on: day)
        XCTAssertEqual(a.faults[0].service.type, .onSite)
        XCTAssertTrue(a.faults[0].service.clause.contains("3.2.3"))
    }

    func testReplaceablePartGoesToReturnRepair() {
        let a = engine.assess(findings: [finding(.receivingCardFailure, FaultLocation(cabinet: 3))], product: product(), on: day)
        XCTAssertEqual(a.faults[0].service.type, .returnRepair)
        XCTAssertEqual(a.faults[0].service.clause, "3.2.2")
        XCTAssertTrue(a.faults[0].service.explanation.contains("RMA"))
    }

    func testManyModulesGoOnSite() {
        let modules = (1...4).map { finding(.deadModule, FaultLocation(cabinet: 2, module: $0)) }
        let a = engine.assess(findings: modules, product: product(), on: day)
        XCTAssertEqual(a.faults.count, 4)
        XCTAssertTrue(a.faults.allSatisfy { $0.service.type == .onSite && $0.service.clause == "3.2.3(a)" })
        let three = engine.assess(findings: Array(modules.prefix(3)), product: product(), on: day)
        XCTAssertTrue(three.faults.allSatisfy { $0.service.type == .returnRepair })
    }

    func testWholeCabinetGoesOnSite() {
        let a = engine.assess(findings: [finding(.deadCabinet, FaultLocation(cabinet: 7))], product: product(), on: day)
        XCTAssertEqual(a.faults[0].service.type, .onSite)
    }

    func testRemoteGuidanceWithConcreteSteps() {
        let a = engine.assess(findings: [finding(.dataChainBroken, FaultLocation(cabinet: 4, module: 2), source: .telemetry)],
                              product: product(), on: day)
        XCTAssertEqual(a.faults[0].service.type, .remoteGuidance)
        XCTAssertEqual(a.faults[0].service.clause, "3.2.1")
        XCTAssertTrue(a.faults[0].service.steps.contains {
            $0.contains("Reseat the ribbon cable between module 2 and module 3 of cabinet 4")
        }, "\(a.faults[0].service.steps)")
    }

    func testParameterStepsQuoteTheFinding() {
        var f = finding(.parameterMismatch, FaultLocation(cabinet: 1), source: .telemetry)
        f.attributes = ["parameter": "scan mode", "expected": "1/16", "actual": "1/8"]
        let steps = engine.assess(findings: [f], product: product(), on: day).faults[0].service.steps
        XCTAssertTrue(steps.contains { $0.contains("Set scan mode back to 1/16 (it is 1/8 now)") }, "\(steps)")
    }

    func testTwoSourcesOfTheSameFaultMerge() {
        let loc = FaultLocation(cabinet: 2, module: 5)
        let a = engine.assess(findings: [finding(.deadModule, loc, source: .optical), finding(.deadModule, loc, source: .moduleTest)],
                              product: product(), on: day)
        XCTAssertEqual(a.faults.count, 1)
        XCTAssertEqual(a.faults[0].findings.count, 2)
    }

    func testFingerprintDependsOnProductPlaceAndKind() {
        let loc = FaultLocation(cabinet: 2, module: 5)
        let f = PolicyEngine.fingerprint(serial: "A", location: loc, kind: .deadModule)
        XCTAssertEqual(f, PolicyEngine.fingerprint(serial: "A", location: loc, kind: .deadModule))
        XCTAssertNotEqual(f, PolicyEngine.fingerprint(serial: "B", location: loc, kind: .deadModule))
        XCTAssertNotEqual(f, PolicyEngine.fingerprint(serial: "A", location: FaultLocation(cabinet: 2, module: 6), kind: .deadModule))
        XCTAssertNotEqual(f, PolicyEngine.fingerprint(serial: "A", location: loc, kind: .moduleTestFailed))
    }

    func testLightingFindingsAreClassedAndServed() {
        let uid = FaultLocation(controller: "/dev/ttyUSB0", lightingUID: "4c53:0000002a")
        let silent = engine.assess(findings: [finding(.fixtureNotResponding, uid, source: .lighting)], product: product { $0.type = .lighting }, on: day)
        XCTAssertEqual(silent.faults[0].service.type, .remoteGuidance)
        XCTAssertTrue(silent.faults[0].service.steps[0].contains("fixture 4C53:0000002A"), silent.faults[0].service.steps[0])
        let lamp = engine.assess(findings: [finding(.lampFailure, uid, source: .lighting)], product: product { $0.type = .lighting }, on: day)
        XCTAssertEqual(lamp.faults[0].service.type, .returnRepair)
        let hot = engine.assess(findings: [finding(.overTemperature, uid, source: .lighting)], product: product { $0.type = .lighting }, on: day)
        XCTAssertEqual(hot.faults[0].faultClass.class, .safety)
        XCTAssertEqual(engine.faultClass(for: "lighting-sensor-failed").class, .performance)
        XCTAssertEqual(engine.scope(of: product { $0.type = .lighting }, on: day).status, .inWarranty)
    }

    func testSamePlaceSeenThroughAnotherPortIsTheSameFault() {
        let a = FaultLocation(controller: "/dev/ttyUSB0", cabinet: 2, module: 5)
        let b = FaultLocation(controller: "/dev/ttyACM1", cabinet: 2, module: 5)
        XCTAssertEqual(PolicyEngine.fingerprint(serial: "S", location: a, kind: .deadModule),
                       PolicyEngine.fingerprint(serial: "S", location: b, kind: .deadModule))
        let fixture1 = FaultLocation(controller: "/dev/ttyUSB0", channel: 1, lightingUID: "4c53:0000002a")
        let fixture2 = FaultLocation(controller: "/dev/ttyUSB3", channel: 17, lightingUID: "4C53:0000002A")
        XCTAssertEqual(fixture1.identity, fixture2.identity)
        // A fault that only names its controller keeps it: two controllers, two places.
        XCTAssertNotEqual(FaultLocation(controller: "sender-1").identity, FaultLocation(controller: "sender-2").identity)
        let merged = engine.assess(findings: [finding(.deadModule, a), finding(.deadModule, b)], product: product(), on: day)
        XCTAssertEqual(merged.faults.count, 1)
    }

    // MARK: Policy files

    func testPolicyRoundTripsThroughJSON() throws {
        let policy = try WarrantyPolicy.builtIn()
        let json = try JSONEncoder().encode(policy)
        let again = try WarrantyPolicy.parse(json, json: true)
        XCTAssertEqual(again.serviceTypes.onSiteModuleThreshold, policy.serviceTypes.onSiteModuleThreshold)
        XCTAssertEqual(again.faultClasses.count, policy.faultClasses.count)
    }

    func testBadPolicyIsRefusedWithReason() {
        XCTAssertThrowsError(try WarrantyPolicy.parse(Data("name: x\n".utf8), json: false)) { error in
            XCTAssertTrue("\(error)".contains("not valid"), "\(error)")
        }
        let isoWithoutClass = """
            {"standard": "iso13406-2"}
            """
        let std = try? JSONDecoder().decode(PerformanceStandard.self, from: Data(isoWithoutClass.utf8))
        XCTAssertThrowsError(try std!.validate(origin: "t"))
    }
}
