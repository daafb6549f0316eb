import Crypto
import Diagnostics
import Foundation

/// Whether clause 1 and 2 put a product inside the warranty on a given day.
public struct ScopeDecision: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable {
        case inWarranty = "in-warranty"
        case outOfWarranty = "out-of-warranty"
        case notCovered = "not-covered"
    }
    public var status: Status
    public var clause: String
    public var explanation: String
    /// Last day of the warranty period, `yyyy-MM-dd`.
    public var warrantyEnds: String?
}

/// Something the customer must still supply, and how to ask for it.
public struct MissingItem: Codable, Sendable, Hashable {
    public enum Item: String, Codable, Sendable { case warrantyDocument = "warranty-document", contact }
    public var item: Item
    public var text: String

    /// Still missing for this product as the registry has it now?
    public func stillMissing(for product: Product) -> Bool {
        switch item {
        case .warrantyDocument: !product.hasWarrantyDocument
        case .contact: !product.hasContact
        }
    }
}

/// How one fault is classed (3.1) and served (3.2).
public struct ServiceDecision: Codable, Sendable, Hashable {
    public var type: ServiceType
    public var clause: String
    public var explanation: String
    /// Concrete steps for remote guidance; empty for the other service types.
    public var steps: [String]
}

/// One fault that breaks the policy: becomes (or updates) exactly one case.
public struct AssessedFault: Codable, Sendable, Hashable {
    public var kind: FaultKind
    public var location: FaultLocation
    public var fingerprint: String
    public var summary: String
    public var faultClass: WarrantyPolicy.ClassDecision
    public var service: ServiceDecision
    public var measurements: [MeasuredValue]
    public var findings: [Finding]
}

/// A finding the policy tolerates (within the contract's performance standard).
public struct ToleratedFinding: Codable, Sendable, Hashable {
    public var finding: Finding
    public var reason: String
}

/// Everything the policy says about one inspection of one product.
public struct Assessment: Codable, Sendable {
    public var productSerial: String
    public var scope: ScopeDecision
    /// What the customer must still supply (clause 2 / 3.3.1).
    public var missing: [MissingItem]
    public var standard: String
    public var faults: [AssessedFault]
    public var tolerated: [ToleratedFinding]
    public var notes: [String]
}

/// Applies a `WarrantyPolicy` to the findings of one product. Pure: no I/O, no clock.
public struct PolicyEngine: Sendable {
    public let policy: WarrantyPolicy

    public init(policy: WarrantyPolicy) { self.policy = policy }

    /// The aggregated kind for single-LED findings over a whole screen.
    public static let outOfControlLEDs: FaultKind = "out-of-control-leds"
    static let ledKinds: Set<FaultKind> = [.deadLED, .stuckLED, .dimLED, .deadSubpixel]
    /// How many single-LED findings an out-of-control-leds case keeps per run.
    static let ledSample = 200

    public func assess(findings: [Finding], product: Product, on date: Date,
                       screen: (width: Int, height: Int)? = nil) -> Assessment {
        let standard = product.performanceStandard ?? policy.performanceStandard
        var notes: [String] = []
        var tolerated: [ToleratedFinding] = []

        // Group by (kind, location): two sources seeing the same fault make one fault.
        var groups: [String: [Finding]] = [:]
        var order: [String] = []
        var ledFindings: [Finding] = []
        for finding in findings {
            if Self.ledKinds.contains(finding.kind) { ledFindings.append(finding); continue }
            let key = finding.kind.rawValue + "|" + finding.location.identity
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(finding)
        }

        var raw: [(kind: FaultKind, location: FaultLocation, findings: [Finding], measurements: [MeasuredValue], summary: String)] = []
        for key in order {
            let group = groups[key]!
            let first = group[0]
            raw.append((first.kind, first.location, group, group.flatMap(\.measurements),
                        first.detail ?? "\(first.kind.rawValue.replacingOccurrences(of: "-", with: " ")) at \(first.location.description)"))
        }

        // Lines and modules: tolerated up to what the standard allows.
        for (kind, allowed) in [(FaultKind.deadLine, standard.deadLinesAllowed), (.deadModule, standard.deadModulesAllowed)] {
            let count = raw.filter { $0.kind == kind }.count
            if count > 0 && count <= allowed {
                for fault in raw where fault.kind == kind {
                    tolerated += fault.findings.map {
                        ToleratedFinding(finding: $0, reason: "\(count) \(kind.rawValue) within the \(allowed) the performance standard allows (3.1.2)")
                    }
                }
                raw.removeAll { $0.kind == kind }
            }
        }

        // Single LEDs: judged together against the standard.
        if !ledFindings.isEmpty {
            let size = screen ?? product.screenWidth.flatMap { w in product.screenHeight.map { (w, $0) } }
            if let size {
                let judged = judgeLEDs(ledFindings, standard: standard, width: size.0, height: size.1)
                if let breach = judged.breach {
                    // The case keeps one summary finding and a sample of the LEDs; every LED is
                    // in the run's fault list (evidence), so a 4K screen with 100,000 failed LEDs
                    // does not add 100,000 rows to the case on every run.
                    let summary = Finding(source: ledFindings[0].source, location: FaultLocation(), kind: Self.outOfControlLEDs,
                                          measurements: judged.measurements,
                                          detail: breach + (ledFindings.count > Self.ledSample
                                              ? "; \(Self.ledSample) of \(ledFindings.count) LED findings kept on the case, all in the run's fault list" : ""))
                    raw.append((Self.outOfControlLEDs, FaultLocation(), [summary] + ledFindings.prefix(Self.ledSample),
                                judged.measurements, breach))
                } else {
                    tolerated += ledFindings.map { ToleratedFinding(finding: $0, reason: judged.withinReason) }
                }
            } else {
                notes.append("\(ledFindings.count) single-LED findings were not judged: the screen size is unknown "
                             + "(record it with `ledsentry products add --screen WIDTHxHEIGHT` or put `screen` in the findings file)")
                tolerated += ledFindings.map { ToleratedFinding(finding: $0, reason: "not judged: screen size unknown") }
            }
        }

        // Many failed modules at once make the repair a site visit (3.2.3 a).
        var failedModules = Set<String>()
        for fault in raw where policy.serviceTypes.returnRepairKinds.contains(fault.kind) {
            for finding in fault.findings {
                if let module = finding.location.module {
                    failedModules.insert("\(finding.location.cabinet ?? -1)/\(module)")
                }
            }
        }
        let manyModules = failedModules.count >= policy.serviceTypes.onSiteModuleThreshold
        if manyModules {
            notes.append("\(failedModules.count) modules failed at once (threshold \(policy.serviceTypes.onSiteModuleThreshold)): replaceable parts are served on site (3.2.3 a)")
        }

        let faults = raw.map { fault -> AssessedFault in
            let cls = faultClass(for: fault.kind)
            let service = serviceDecision(kind: fault.kind, faultClass: cls.class, manyModules: manyModules,
                                          finding: fault.findings[0])
            return AssessedFault(kind: fault.kind, location: fault.location,
                                 fingerprint: Self.fingerprint(serial: product.serial, location: fault.location, kind: fault.kind),
                                 summary: fault.summary, faultClass: cls, service: service,
                                 measurements: fault.measurements, findings: fault.findings)
        }

        return Assessment(productSerial: product.serial, scope: scope(of: product, on: date),
                          missing: missingDocuments(of: product), standard: standard.summary,
                          faults: faults, tolerated: tolerated, notes: notes)
    }

    // MARK: Clause 1 and 2

    public func scope(of product: Product, on date: Date) -> ScopeDecision {
        let end = product.warrantyEnd(defaultMonths: policy.warrantyPeriod.defaultMonths)
        let endText = end.map(Product.formatDate)
        if !policy.scope.productTypes.contains(product.type.rawValue) {
            return ScopeDecision(status: .notCovered, clause: "1",
                                 explanation: "This policy covers \(policy.scope.productTypes.joined(separator: " and ")) products; \(product.type.rawValue) is not one of them.",
                                 warrantyEnds: endText)
        }
        if policy.scope.requireDirectPurchase && !product.purchasedDirect {
            return ScopeDecision(status: .notCovered, clause: "1",
                                 explanation: "The warranty covers products bought directly from \(policy.manufacturer); this one was bought through another seller, who handles its warranty.",
                                 warrantyEnds: endText)
        }
        guard let end, let endText else {
            return ScopeDecision(status: .notCovered, clause: "2",
                                 explanation: "The contract date is missing or invalid, so the warranty period cannot be determined.",
                                 warrantyEnds: nil)
        }
        let months = product.warrantyMonths ?? policy.warrantyPeriod.defaultMonths
        if date < end {
            return ScopeDecision(status: .inWarranty, clause: "2",
                                 explanation: "Under warranty: the sales contract of \(product.contractDate) gives \(months) months, until \(endText).",
                                 warrantyEnds: endText)
        }
        return ScopeDecision(status: .outOfWarranty, clause: "2",
                             explanation: "The warranty period of \(months) months from the sales contract of \(product.contractDate) ended on \(endText); repairs are charged.",
                             warrantyEnds: endText)
    }

    public func missingDocuments(of product: Product) -> [MissingItem] {
        var missing: [MissingItem] = []
        if !product.hasWarrantyDocument {
            missing.append(.init(item: .warrantyDocument, text: "Supply " + policy.warrantyPeriod.requiredDocuments + "."))
        }
        if !product.hasContact {
            missing.append(.init(item: .contact, text: "Supply " + policy.warrantyPeriod.requiredContact + "."))
        }
        return missing
    }

    // MARK: Clause 3.1

    public func faultClass(for kind: FaultKind) -> WarrantyPolicy.ClassDecision {
        for rule in policy.faultClasses where rule.kinds.contains(kind) {
            return .init(class: rule.class, clause: rule.clause, reason: rule.reason)
        }
        return policy.defaultFaultClass
    }

    // MARK: Clause 3.2

    public func serviceDecision(kind: FaultKind, faultClass: FaultClass, manyModules: Bool,
                                finding: Finding) -> ServiceDecision {
        let rules = policy.serviceTypes
        func decision(_ type: ServiceType, _ key: String) -> ServiceDecision {
            let explanation = rules.explanations[key]!  // validate() guarantees every key
            let steps = type == .remoteGuidance ? remoteSteps(kind: kind, finding: finding) : []
            return ServiceDecision(type: type, clause: explanation.clause, explanation: explanation.text, steps: steps)
        }
        if rules.onSiteForSafety && faultClass == .safety { return decision(.onSite, "on-site-safety") }
        if rules.onSiteKinds.contains(kind) { return decision(.onSite, "on-site") }
        if rules.remoteKinds.contains(kind) { return decision(.remoteGuidance, "remote-guidance") }
        if rules.returnRepairKinds.contains(kind) {
            return manyModules ? decision(.onSite, "on-site-many-modules") : decision(.returnRepair, "return-repair")
        }
        return decision(rules.default, rules.default.rawValue)
    }

    /// Fills the policy's step templates with the finding's location and attributes.
    public func remoteSteps(kind: FaultKind, finding: Finding) -> [String] {
        let templates = policy.remoteSteps[kind.rawValue] ?? policy.remoteSteps["default"] ?? []
        let loc = finding.location
        var values: [String: String] = [
            "cabinet": loc.cabinet.map(String.init) ?? "the affected cabinet",
            "module": loc.module.map(String.init) ?? "the last working module",
            "next_module": loc.module.map { String($0 + 1) } ?? "the next module",
            "controller": loc.controller ?? "",
            "channel": loc.channel.map(String.init) ?? "the affected channel",
            "uid": loc.lightingUID?.uppercased() ?? "the affected fixture",
            "location": loc.description,
            "parameter": "the wrong parameter",
            "expected": "the value in the commissioning sheet",
            "actual": "different",
        ]
        for (key, value) in finding.attributes { values[key] = value }
        return templates.map { template in
            var text = template
            for (key, value) in values { text = text.replacingOccurrences(of: "{\(key)}", with: value) }
            return text.replacingOccurrences(of: "  ", with: " ")
        }
    }

    // MARK: Fingerprints

    /// Identifies "the same fault on the same product" across runs: product, place and kind.
    public static func fingerprint(serial: String, location: FaultLocation, kind: FaultKind) -> String {
        let text = serial + "\n" + location.identity + "\n" + kind.rawValue
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: Single LEDs against the performance standard

    struct LEDJudgement {
        var breach: String?
        var withinReason: String
        var measurements: [MeasuredValue]
    }

    func judgeLEDs(_ findings: [Finding], standard: PerformanceStandard, width: Int, height: Int) -> LEDJudgement {
        let total = Double(width * height)
        // One LED counts once, however many findings name it.
        var positions = Set<FaultLocation.LEDPosition>()
        var unplaced = 0
        for f in findings {
            if let p = f.location.led, p.x >= 0, p.y >= 0, p.x < width, p.y < height { positions.insert(p) } else { unplaced += 1 }
        }
        let failed = positions.count + unplaced
        switch standard.standard {
        case .sjt11141:
            let maxWhole = standard.maxOutOfControlRate ?? 0.0001
            let rate = Double(failed) / total
            var measurements = [
                MeasuredValue(name: "out-of-control-leds", value: Double(failed), unit: "LEDs"),
                MeasuredValue(name: "screen-leds", value: total, unit: "LEDs"),
                MeasuredValue(name: "out-of-control-rate", value: rate, limit: maxWhole),
            ]
            var reasons: [String] = []
            if rate > maxWhole {
                reasons.append("\(failed) of \(Int(total)) LEDs out of control (\(Self.perTenThousand(rate)) in 10,000, limit \(Self.perTenThousand(maxWhole)))")
            }
            if let maxRegion = standard.maxOutOfControlRateWorstRegion {
                let size = standard.regionSize ?? 100
                let worst = Self.worstRegion(positions, width: width, height: height, size: size)
                let area = Double(min(size, width) * min(size, height))
                let regionRate = Double(worst.count) / area
                measurements.append(MeasuredValue(name: "worst-region-leds", value: Double(worst.count), unit: "LEDs"))
                measurements.append(MeasuredValue(name: "worst-region-rate", value: regionRate, limit: maxRegion))
                measurements.append(MeasuredValue(name: "worst-region-x", value: Double(worst.x)))
                measurements.append(MeasuredValue(name: "worst-region-y", value: Double(worst.y)))
                if regionRate > maxRegion {
                    reasons.append("\(worst.count) out-of-control LEDs in the \(size)x\(size) region at (\(worst.x), \(worst.y)) (\(Self.perTenThousand(regionRate)) in 10,000, limit \(Self.perTenThousand(maxRegion)))")
                }
            }
            let within = "\(failed) out-of-control LEDs are within the performance standard (\(standard.summary))"
            return LEDJudgement(breach: reasons.isEmpty ? nil : reasons.joined(separator: "; "),
                                withinReason: within, measurements: measurements)
        case .iso13406_2:
            let cls = standard.isoClass ?? .II
            let limits = cls.limitsPerMillion
            var lit = Set<FaultLocation.LEDPosition>(), dark = Set<FaultLocation.LEDPosition>(), sub = Set<FaultLocation.LEDPosition>()
            var unplacedByType = [0, 0, 0]
            for f in findings {
                let type = f.kind == .stuckLED ? 0 : (f.kind == .deadLED ? 1 : 2)
                guard let p = f.location.led else { unplacedByType[type] += 1; continue }
                switch type { case 0: lit.insert(p); case 1: dark.insert(p); default: sub.insert(p) }
            }
            let millions = total / 1_000_000
            let counts = [lit.count + unplacedByType[0], dark.count + unplacedByType[1], sub.count + unplacedByType[2]]
            let allowed = [limits.alwaysLit, limits.alwaysDark, limits.subpixel].map { ($0 * millions).rounded(.down) }
            let names = ["always-lit", "always-dark", "sub-pixel"]
            var reasons: [String] = []
            var measurements = [MeasuredValue(name: "screen-leds", value: total, unit: "LEDs")]
            for i in 0..<3 {
                measurements.append(MeasuredValue(name: "iso-\(names[i])", value: Double(counts[i]), unit: "pixels", limit: allowed[i]))
                if Double(counts[i]) > allowed[i] {
                    reasons.append("\(counts[i]) \(names[i]) pixels, class \(cls.rawValue) allows \(Int(allowed[i])) on \(Int(total)) pixels")
                }
            }
            return LEDJudgement(breach: reasons.isEmpty ? nil : "ISO 13406-2: " + reasons.joined(separator: "; "),
                                withinReason: "within ISO 13406-2 class \(cls.rawValue)", measurements: measurements)
        }
    }

    /// The size x size window (clamped to the screen) holding the most failed LEDs, by a
    /// summed-area table: O(width x height), independent of how many LEDs failed.
    static func worstRegion(_ positions: Set<FaultLocation.LEDPosition>, width: Int, height: Int, size: Int)
        -> (x: Int, y: Int, count: Int) {
        guard !positions.isEmpty else { return (0, 0, 0) }
        let w = width + 1
        var sums = [Int32](repeating: 0, count: w * (height + 1))
        for p in positions { sums[(p.y + 1) * w + p.x + 1] = 1 }
        for y in 1...height {
            var row: Int32 = 0
            for x in 1...width {
                row += sums[y * w + x]
                sums[y * w + x] = row + sums[(y - 1) * w + x]
            }
        }
        let sw = min(size, width), sh = min(size, height)
        var best = (x: 0, y: 0, count: -1)
        for y in 0...(height - sh) {
            for x in 0...(width - sw) {
                let count = Int(sums[(y + sh) * w + x + sw] - sums[y * w + x + sw] - sums[(y + sh) * w + x] + sums[y * w + x])
                if count > best.count { best = (x, y, count) }
            }
        }
        return best
    }

    static func perTenThousand(_ rate: Double) -> String {
        PerformanceStandard.format((rate * 10_000 * 100).rounded() / 100)
    }
}
