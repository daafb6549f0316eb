import FrameAnalysis
import LEDControllers

/// A module of the wall: cabinet and module index, as the controller numbers them.
public struct ModuleRef: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var cabinet: Int
    public var module: Int
    public init(cabinet: Int, module: Int) { self.cabinet = cabinet; self.module = module }
    public static func < (a: ModuleRef, b: ModuleRef) -> Bool { (a.cabinet, a.module) < (b.cabinet, b.module) }
    public var description: String { "cabinet \(cabinet) module \(module)" }
}

extension LEDStatusMap {
    /// The electrical readback as a FrameAnalysis defect map in wall coordinates, so it can be
    /// compared and merged with what cameras see: OPEN is dead, SHORT stuck (lit when it
    /// should not be), WEAK dim, each on its channel; NO_DATA is the whole LED dead.
    public var defectMap: DefectMap {
        let defects = faults.map { fault -> LEDDefect in
            let channel = fault.channel.map(WallLayout.channel) ?? .all
            let kind: DefectKind = switch fault.condition {
            case .open, .noData: .dead
            case .short: .stuck
            case .weak: .dim
            }
            return LEDDefect(x: fault.location.wallX, y: fault.location.wallY, kind: kind, channel: channel)
        }
        return DefectMap(cols: geometry.wallWidth, rows: geometry.wallHeight, defects: defects)
    }
}

/// Where a set of findings came from, copied into each one.
public struct FindingContext: Sendable {
    public var productSerial: String?
    public var controller: String?
    public init(productSerial: String? = nil, controller: String? = nil) {
        self.productSerial = productSerial
        self.controller = controller
    }
}

/// The limits the reference controller alarms at (Firmware/README.md): above these a
/// reading becomes a finding.
public struct TelemetryLimits: Sendable {
    public var maxTemperatureCelsius = 75.0
    public var minSupplyMillivolts = 4500.0
    public var minFanRPM = 300.0
    public init() {}
}

extension FaultKind {
    /// A cabinet fan that stopped (telemetry or event log).
    public static let fanStall: FaultKind = "fan-stall"
}

/// Module self-test results, telemetry and the event log as Findings.
public enum ControllerFindings {
    /// What the module tests say, per cabinet. Modules that answer nothing (no data, every
    /// check failed, 0 mV) are told apart by their pattern in the chain: a run of two or more
    /// dark modules up to the end of the chain after a working one is a broken data chain
    /// (located at the last working module, whose output cable feeds the next); all modules
    /// dark is a dead cabinet; any other dark module is a dead module; a cabinet whose receiving
    /// card does not answer is a receiving-card failure. `darkModules` maps each dark module to
    /// the finding that covers it.
    ///   - modulesPerCabinet: every module of an unreadable cabinet is dark, explained by its
    ///     receiving-card finding.
    public static func moduleTests(_ reports: [ModuleTestReport], unreadable: [Int: String] = [:],
                                   modulesPerCabinet: Int = 0,
                                   context: FindingContext = FindingContext(),
                                   evidence: [EvidenceReference] = [])
        -> (findings: [Finding], darkModules: [ModuleRef: Int], driverICModules: [ModuleRef: Int]) {
        var findings: [Finding] = []
        var dark: [ModuleRef: Int] = [:]
        var ics: [ModuleRef: Int] = [:]
        func location(_ cabinet: Int, _ module: Int?) -> FaultLocation {
            FaultLocation(productSerial: context.productSerial, controller: context.controller, cabinet: cabinet, module: module)
        }
        func add(_ kind: FaultKind, _ cabinet: Int, _ module: Int?, _ measurements: [MeasuredValue] = [],
                 _ attributes: [String: String] = [:], _ detail: String) -> Int {
            findings.append(Finding(source: .moduleTest, location: location(cabinet, module), kind: kind,
                                    measurements: measurements, evidence: evidence,
                                    attributes: attributes, detail: detail))
            return findings.count - 1
        }
        for (cabinet, reason) in unreadable.sorted(by: { $0.key < $1.key }) {
            let index = add(.receivingCardFailure, cabinet, nil, [], ["controller-reply": reason],
                            "Cabinet \(cabinet)'s receiving card does not answer: \(reason)")
            for module in 0..<modulesPerCabinet { dark[ModuleRef(cabinet: cabinet, module: module)] = index }
        }
        for report in reports.sorted(by: { $0.cabinet < $1.cabinet }) {
            let cabinet = Int(report.cabinet)
            let modules = report.modules.sorted { $0.module < $1.module }
            let isDark = modules.map { !$0.checks.contains(.dataChainIntact) && $0.supplyMillivolts == 0 }
            let darkCount = isDark.filter { $0 }.count
            // The trailing run of dark modules.
            let firstTrailingDark = (isDark.lastIndex(of: false).map { $0 + 1 }) ?? 0
            let trailing = modules.count - firstTrailingDark
            if !modules.isEmpty && darkCount == modules.count {
                let index = add(.deadCabinet, cabinet, nil, [MeasuredValue(name: "dark modules", value: Double(darkCount), unit: "modules")],
                                [:], "All \(darkCount) modules of cabinet \(cabinet) are dark: none answers its self-test")
                for m in modules { dark[ModuleRef(cabinet: cabinet, module: Int(m.module))] = index }
                continue
            }
            var chainIndex: Int?
            if trailing >= 2 && firstTrailingDark > 0 {
                let last = Int(modules[firstTrailingDark - 1].module), next = Int(modules[firstTrailingDark].module)
                chainIndex = add(.dataChainBroken, cabinet, last,
                                 [MeasuredValue(name: "dark modules", value: Double(trailing), unit: "modules")],
                                 ["first_dark_module": String(next)],
                                 "The data chain of cabinet \(cabinet) stops after module \(last): modules \(next) to \(modules.last!.module) get no data")
            }
            for (i, m) in modules.enumerated() {
                let ref = ModuleRef(cabinet: cabinet, module: Int(m.module))
                if isDark[i] {
                    if let chainIndex, i >= firstTrailingDark { dark[ref] = chainIndex; continue }
                    dark[ref] = add(.deadModule, cabinet, Int(m.module),
                                    [MeasuredValue(name: "supply", value: 0, unit: "mV")], [:],
                                    "Module \(m.module) of cabinet \(cabinet) is dark: it answers no self-test check and draws no supply")
                    continue
                }
                if !m.checks.contains(.driverICsPresent) {
                    ics[ref] = add(.driverICMissing, cabinet, Int(m.module),
                                   [MeasuredValue(name: "driver ICs found", value: Double(m.driverICsFound),
                                                  unit: "ICs", limit: Double(m.driverICsExpected))], [:],
                                   "Module \(m.module) of cabinet \(cabinet) has \(m.driverICsFound) of its \(m.driverICsExpected) driver ICs")
                }
                if !m.checks.contains(.calibrationMatches) {
                    _ = add(.calibrationChecksum, cabinet, Int(m.module), [], [:],
                            "Module \(m.module) of cabinet \(cabinet): its calibration data does not match its checksum")
                }
            }
            // Supply is a cabinet matter (one power supply feeds its modules): one finding.
            let lowSupply = modules.enumerated().filter { !isDark[$0.offset] && !$0.element.checks.contains(.supplyInRange) }
            if let lowest = lowSupply.map(\.element.supplyMillivolts).min() {
                _ = add(.underVoltage, cabinet, nil,
                        [MeasuredValue(name: "module supply", value: Double(lowest), unit: "mV", limit: 4500)],
                        ["modules": lowSupply.map { String($0.element.module) }.joined(separator: ",")],
                        "Cabinet \(cabinet): \(lowSupply.count) module(s) report a supply out of range, lowest \(lowest) mV")
            }
        }
        return (findings, dark, ics)
    }

    /// Readings beyond `limits` now: over-temperature, under-voltage, fan stall, per cabinet.
    public static func telemetry(_ readings: [Telemetry], limits: TelemetryLimits = TelemetryLimits(),
                                 context: FindingContext = FindingContext(),
                                 evidence: [EvidenceReference] = []) -> [Finding] {
        var findings: [Finding] = []
        for t in readings {
            let location = FaultLocation(productSerial: context.productSerial, controller: context.controller, cabinet: Int(t.cabinet))
            let celsius = Double(t.temperatureDeciCelsius) / 10
            if celsius > limits.maxTemperatureCelsius {
                findings.append(Finding(source: .telemetry, location: location, kind: .overTemperature,
                                        measurements: [MeasuredValue(name: "temperature", value: celsius, unit: "°C", limit: limits.maxTemperatureCelsius)],
                                        evidence: evidence,
                                        detail: "Cabinet \(t.cabinet) runs at \(celsius) °C, above the \(limits.maxTemperatureCelsius) °C limit"))
            }
            if Double(t.supplyMillivolts) < limits.minSupplyMillivolts {
                findings.append(Finding(source: .telemetry, location: location, kind: .underVoltage,
                                        measurements: [MeasuredValue(name: "supply", value: Double(t.supplyMillivolts), unit: "mV", limit: limits.minSupplyMillivolts)],
                                        evidence: evidence,
                                        detail: "Cabinet \(t.cabinet)'s supply is \(t.supplyMillivolts) mV, below \(Int(limits.minSupplyMillivolts)) mV"))
            }
            if Double(t.fanRPM) < limits.minFanRPM {
                findings.append(Finding(source: .telemetry, location: location, kind: .fanStall,
                                        measurements: [MeasuredValue(name: "fan", value: Double(t.fanRPM), unit: "rpm", limit: limits.minFanRPM)],
                                        evidence: evidence,
                                        detail: "Cabinet \(t.cabinet)'s fan turns at \(t.fanRPM) rpm (stalled)"))
            }
        }
        return findings
    }

    /// Alarms in the controller's event log (they may have cleared since): one finding per
    /// kind and place, with how often and the worst value. Link errors and power losses are
    /// not faults of the product and are left out.
    public static func events(_ events: [EventRecord], context: FindingContext = FindingContext(),
                              evidence: [EvidenceReference] = []) -> [Finding] {
        var order: [String] = []
        var grouped: [String: [EventRecord]] = [:]
        for event in events where [.overTemperature, .underVoltage, .fanStall].contains(event.type) {
            let key = "\(event.type.rawValue)/\(event.cabinet)"
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(event)
        }
        return order.map { key in
            let group = grouped[key]!
            let first = group[0]
            let cabinet: Int? = first.cabinet == EventRecord.sendingCard ? nil : Int(first.cabinet)
            let location = FaultLocation(productSerial: context.productSerial, controller: context.controller, cabinet: cabinet)
            let kind: FaultKind, measurement: MeasuredValue
            switch first.type {
            case .overTemperature:
                kind = .overTemperature
                measurement = MeasuredValue(name: "temperature", value: Double(group.map(\.value).max()!) / 10, unit: "°C")
            case .underVoltage:
                kind = .underVoltage
                measurement = MeasuredValue(name: "supply", value: Double(group.map(\.value).min()!) * 10, unit: "mV")
            default:
                kind = .fanStall
                measurement = MeasuredValue(name: "fan", value: Double(group.map(\.value).min()!), unit: "rpm")
            }
            let place = cabinet.map { "cabinet \($0)" } ?? "the sending card"
            return Finding(source: .telemetry, location: location, kind: kind,
                           measurements: [measurement, MeasuredValue(name: "logged events", value: Double(group.count))],
                           evidence: evidence,
                           attributes: ["event-sequences": group.map { String($0.sequence) }.joined(separator: ",")],
                           detail: "The controller logged \(group.count) \(first.type) event(s) for \(place)")
        }
    }
}
