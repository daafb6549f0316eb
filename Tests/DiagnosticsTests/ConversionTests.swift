import Diagnostics
import FrameAnalysis
import LEDControllers
import XCTest

/// Readbacks, module tests, telemetry, events and captures into Findings, with hand-built inputs
/// whose answer is known.
final class ConversionTests: XCTestCase {
    /// 2x1 cabinets of 2x2 modules of 8x4 LEDs: cabinets are 16x8, the wall 32x8.
    let geometry = WallGeometry(cabinetColumns: 2, cabinetRows: 1, modulesX: 2, modulesY: 2, moduleWidth: 8, moduleHeight: 4)
    var layout: WallLayout { WallLayout(geometry) }

    /// Status bytes (protocol 4.7): red bits 0-1, green 2-3, blue 4-5 (1 OPEN, 2 SHORT, 3 WEAK); bit 6 NO_DATA.
    func statusMap(_ set: [(cabinet: Int, x: Int, y: Int, byte: UInt8)]) -> LEDStatusMap {
        var cabinets = [[UInt8]](repeating: [UInt8](repeating: 0, count: geometry.ledsPerCabinet), count: 2)
        for s in set { cabinets[s.cabinet][s.y * geometry.cabinetWidth + s.x] = s.byte }
        return LEDStatusMap(geometry: geometry, cabinets: cabinets)
    }

    func testStatusReadbackBecomesADefectMapInWallCoordinates() {
        let map = statusMap([(0, 3, 1, 0x01),   // red OPEN
                             (1, 2, 0, 0x08),   // green SHORT, cabinet 1 starts at wall x 16
                             (1, 5, 3, 0x3F),   // WEAK on all three channels
                             (0, 0, 0, 0x40)])  // NO_DATA
        XCTAssertEqual(map.defectMap.cols, 32)
        XCTAssertEqual(map.defectMap.rows, 8)
        XCTAssertEqual(map.defectMap.defects, [
            LEDDefect(x: 0, y: 0, kind: .dead, channel: .all),
            LEDDefect(x: 18, y: 0, kind: .stuck, channel: .green),
            LEDDefect(x: 3, y: 1, kind: .dead, channel: .red),
            LEDDefect(x: 21, y: 3, kind: .dim, channel: .blue),
            LEDDefect(x: 21, y: 3, kind: .dim, channel: .green),
            LEDDefect(x: 21, y: 3, kind: .dim, channel: .red),
        ])
    }

    func testWallLayoutNamesCabinetModuleAndLED() {
        let location = layout.location(x: 27, y: 6, channel: 2)
        XCTAssertEqual(location.cabinet, 1)
        XCTAssertEqual(location.module, 3)  // cabinet x 11, y 6: module column 1, row 1
        XCTAssertEqual(location.led, .init(x: 27, y: 6))
        XCTAssertEqual(location.canonical, "cabinet=1/module=3/led=27,6/channel=2")
        XCTAssertEqual(layout.rectangle(cabinet: 1, module: 3).x, 24)
        XCTAssertEqual(layout.rectangle(cabinet: 1, module: 3).y, 4)
    }

    let ok = ModuleTestResult(module: 0, checks: .all, supplyMillivolts: 5000, driverICsExpected: 12, driverICsFound: 12)
    func module(_ index: UInt8, _ change: (inout ModuleTestResult) -> Void = { _ in }) -> ModuleTestResult {
        var m = ok
        m.module = index
        change(&m)
        return m
    }
    func dark(_ index: UInt8) -> ModuleTestResult {
        ModuleTestResult(module: index, checks: [], supplyMillivolts: 0, driverICsExpected: 12, driverICsFound: 0)
    }

    func testModuleTestsTellChainBreakDeadModuleDeadCabinetAndCardFailureApart() {
        let reports = [
            ModuleTestReport(cabinet: 0, modules: [module(0), module(1), dark(2), dark(3)]),
            ModuleTestReport(cabinet: 1, modules: [
                dark(0),
                module(1) { $0.checks.remove(.supplyInRange); $0.supplyMillivolts = 4300 },
                module(2) { $0.checks.remove(.driverICsPresent); $0.driverICsFound = 11 },
                module(3) { $0.checks.remove(.calibrationMatches) },
            ]),
            ModuleTestReport(cabinet: 2, modules: [dark(0), dark(1), dark(2), dark(3)]),
        ]
        let evidence = [EvidenceReference(name: "module-test.json", role: .moduleTest)]
        let result = ControllerFindings.moduleTests(reports, unreadable: [3: "HARDWARE_FAULT"], modulesPerCabinet: 4,
                                                    context: FindingContext(productSerial: "P1"), evidence: evidence)
        let summary = result.findings.map { "\($0.kind.rawValue) \($0.location.canonical)" }
        XCTAssertEqual(summary, [
            "receiving-card-failure cabinet=3",
            "data-chain-broken cabinet=0/module=1",
            "dead-module cabinet=1/module=0",
            "driver-ic-missing cabinet=1/module=2",
            "calibration-checksum cabinet=1/module=3",
            "under-voltage cabinet=1",
            "dead-cabinet cabinet=2",
        ])
        XCTAssertTrue(result.findings.allSatisfy { $0.source == .moduleTest && $0.evidence == evidence && $0.location.productSerial == "P1" })
        let chain = result.findings[1]
        XCTAssertEqual(chain.attributes["first_dark_module"], "2")
        // Dark modules point at the finding that explains them.
        XCTAssertEqual(result.darkModules[ModuleRef(cabinet: 0, module: 2)], 1)
        XCTAssertEqual(result.darkModules[ModuleRef(cabinet: 0, module: 3)], 1)
        XCTAssertEqual(result.darkModules[ModuleRef(cabinet: 1, module: 0)], 2)
        XCTAssertEqual(result.darkModules[ModuleRef(cabinet: 2, module: 3)], 6)
        XCTAssertEqual(result.darkModules[ModuleRef(cabinet: 3, module: 3)], 0)  // offline cabinet: its card's finding
        XCTAssertEqual(result.driverICModules, [ModuleRef(cabinet: 1, module: 2): 3])
        XCTAssertEqual(result.findings[3].measurement("driver ICs found"), 11)
        XCTAssertEqual(result.findings[5].measurement("module supply"), 4300)
    }

    func testASingleDarkModuleAtTheEndOfTheChainIsADeadModule() {
        let result = ControllerFindings.moduleTests([ModuleTestReport(cabinet: 0, modules: [module(0), module(1), module(2), dark(3)])])
        XCTAssertEqual(result.findings.map(\.kind), [.deadModule])
        XCTAssertEqual(result.findings[0].location.module, 3)
    }

    func testTelemetryBeyondTheControllerLimitsBecomesFindings() {
        let hot = Telemetry(cabinet: 0, temperatureDeciCelsius: 851, supplyMillivolts: 5000, fanRPM: 0, runtimeHours: 10, powerCycles: 2)
        let low = Telemetry(cabinet: 1, temperatureDeciCelsius: 350, supplyMillivolts: 4300, fanRPM: 2400, runtimeHours: 10, powerCycles: 2)
        let fine = Telemetry(cabinet: 2, temperatureDeciCelsius: 749, supplyMillivolts: 4950, fanRPM: 2000, runtimeHours: 10, powerCycles: 2)
        let findings = ControllerFindings.telemetry([hot, low, fine])
        XCTAssertEqual(findings.map { "\($0.kind.rawValue) \($0.location.canonical)" },
                       ["over-temperature cabinet=0", "fan-stall cabinet=0", "under-voltage cabinet=1"])
        XCTAssertEqual(findings[0].measurements, [MeasuredValue(name: "temperature", value: 85.1, unit: "°C", limit: 75)])
        XCTAssertEqual(findings[2].measurement("supply"), 4300)
    }

    func testEventLogAlarmsBecomeOneFindingPerKindAndPlace() {
        let events = [
            EventRecord(sequence: 1, uptimeSeconds: 0, type: .powerLoss, cabinet: EventRecord.sendingCard, value: 0),
            EventRecord(sequence: 2, uptimeSeconds: 5, type: .overTemperature, cabinet: 0, value: 850),
            EventRecord(sequence: 3, uptimeSeconds: 6, type: .linkError, cabinet: EventRecord.sendingCard, value: 3),
            EventRecord(sequence: 4, uptimeSeconds: 9, type: .overTemperature, cabinet: 0, value: 902),
            EventRecord(sequence: 5, uptimeSeconds: 9, type: .underVoltage, cabinet: 1, value: 430),
        ]
        let findings = ControllerFindings.events(events)
        XCTAssertEqual(findings.map { "\($0.kind.rawValue) \($0.location.canonical)" },
                       ["over-temperature cabinet=0", "under-voltage cabinet=1"])
        XCTAssertEqual(findings[0].measurement("temperature"), 90.2)
        XCTAssertEqual(findings[0].measurement("logged events"), 2)
        XCTAssertEqual(findings[0].attributes["event-sequences"], "2,4")
        XCTAssertEqual(findings[1].measurement("supply"), 4300)
    }

    func testMergerJoinsTheSameFaultFromTwoSources() {
        let place = FaultLocation(cabinet: 0)
        let a = Finding(source: .telemetry, location: place, kind: .overTemperature,
                        measurements: [MeasuredValue(name: "temperature", value: 85)],
                        evidence: [EvidenceReference(name: "telemetry.json", role: .other)])
        let b = Finding(source: .moduleTest, location: place, kind: .overTemperature,
                        measurements: [MeasuredValue(name: "logged events", value: 1)],
                        evidence: [EvidenceReference(name: "telemetry.json", role: .other), EvidenceReference(name: "log", role: .log)])
        let other = Finding(source: .telemetry, location: FaultLocation(cabinet: 1), kind: .overTemperature)
        let merged = FindingMerger.merge([a, other, b])
        XCTAssertEqual(merged.count, 2)
        XCTAssertEqual(merged[0].measurements.map(\.name), ["temperature", "logged events"])
        XCTAssertEqual(merged[0].evidence.map(\.name), ["telemetry.json", "log"])
        XCTAssertEqual(merged[0].attributes[FindingMerger.seenByKey], "telemetry,module-test")
        XCTAssertEqual(merged[0].source, .telemetry)
    }

    func testElectricalAndOpticalObservationsMergePerLEDAndGroup() throws {
        var set: [(cabinet: Int, x: Int, y: Int, byte: UInt8)] = [(0, 3, 1, 0x01), (0, 5, 6, 0x08)]
        for x in 0..<16 { set.append((1, x, 2, 0x15)) }                       // a dead row in cabinet 1 (OPEN x3)
        for y in 4..<8 { for x in 8..<16 { set.append((0, x, y, 0x40)) } }    // cabinet 0 module 3: no data
        let electrical = statusMap(set).defectMap

        var white: [LEDDefect] = [LEDDefect(x: 3, y: 1, kind: .dim), LEDDefect(x: 20, y: 6, kind: .dead)]
        for x in 17..<31 { white.append(LEDDefect(x: x, y: 2, kind: .dead)) }
        for y in 4..<8 { for x in 8..<16 { white.append(LEDDefect(x: x, y: y, kind: .dead)) } }
        let capture = { (p: String) in [EvidenceReference(name: "capture-\(p).png", role: .capture),
                                        EvidenceReference(name: "annotated-\(p).png", role: .annotatedImage)] }
        let optical = [
            OpticalResult(pattern: .white, defects: DefectMap(cols: 32, rows: 8, defects: white), evidence: capture("white")),
            OpticalResult(pattern: .red, defects: DefectMap(cols: 32, rows: 8, defects: [LEDDefect(x: 3, y: 1, kind: .dead, channel: .red)]),
                          evidence: capture("red")),
            OpticalResult(pattern: .black, defects: DefectMap(cols: 32, rows: 8, defects: [LEDDefect(x: 5, y: 6, kind: .stuck)]),
                          evidence: capture("black")),
        ]
        var moduleFindings = [Finding(source: .moduleTest, location: FaultLocation(cabinet: 0, module: 3), kind: .deadModule)]
        let status = [EvidenceReference(name: "led-status.json", role: .statusReadback)]
        let findings = DisplayFindings(layout: layout).findings(
            electrical: electrical, electricalEvidence: status, optical: optical,
            moduleFindings: &moduleFindings, darkModules: [ModuleRef(cabinet: 0, module: 3): 0])

        XCTAssertEqual(findings.map { "\($0.kind.rawValue) \($0.location.canonical) \($0.attributes[FindingMerger.seenByKey]!)" }, [
            "dead-line cabinet=1/row=2 electrical,optical:white",
            "dead-subpixel cabinet=0/module=0/led=3,1/channel=0 electrical,optical:white,optical:red",
            "stuck-led cabinet=0/module=2/led=5,6/channel=1 electrical,optical:black",
            "dead-led cabinet=1/module=2/led=20,6 optical:white",
        ])
        XCTAssertEqual(findings[0].source, .electrical)
        XCTAssertEqual(findings[0].measurement("length"), 16)
        XCTAssertEqual(findings[0].evidence.map(\.name), ["led-status.json", "capture-white.png", "annotated-white.png"])
        XCTAssertEqual(findings[1].evidence.map(\.name),
                       ["led-status.json", "capture-white.png", "annotated-white.png", "capture-red.png", "annotated-red.png"])
        XCTAssertEqual(findings[3].source, .optical)
        // The dark module's LEDs went to its module-test finding, with the optical confirmation.
        XCTAssertEqual(moduleFindings[0].measurement("failed LEDs read back or seen"), 32)
        XCTAssertEqual(moduleFindings[0].measurement("LEDs dark in the white capture"), 32)
        XCTAssertEqual(moduleFindings[0].attributes[FindingMerger.seenByKey], "module-test,electrical,optical:white")
        XCTAssertTrue(moduleFindings[0].evidence.contains(EvidenceReference(name: "annotated-white.png", role: .annotatedImage)))
    }

    func testSingleChannelFailuresInAModuleMissingADriverICBelongToTheIC() {
        // IC 2 drives blue of columns 0-7 here: OPEN on blue in module 1 of cabinet 0 (x 8..15, y 0..3).
        var set: [(cabinet: Int, x: Int, y: Int, byte: UInt8)] = []
        for y in 0..<4 { for x in 8..<16 { set.append((0, x, y, 0x10)) } }
        var moduleFindings = [Finding(source: .moduleTest, location: FaultLocation(cabinet: 0, module: 1), kind: .driverICMissing)]
        let findings = DisplayFindings(layout: layout).findings(
            electrical: statusMap(set).defectMap, optical: [], moduleFindings: &moduleFindings,
            driverICModules: [ModuleRef(cabinet: 0, module: 1): 0])
        XCTAssertEqual(findings.count, 0, "\(findings.map(\.kind))")
        XCTAssertEqual(moduleFindings[0].attributes["channel"], "blue")
        XCTAssertEqual(moduleFindings[0].attributes["module-columns"], "0-7")
        XCTAssertEqual(moduleFindings[0].measurement("failed LEDs read back or seen"), 32)
    }
}
