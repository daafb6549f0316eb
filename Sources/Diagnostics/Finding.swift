import Foundation

/// One observed fault: what was seen, where, how it was measured and which files show it.
///
/// Every room that looks at hardware produces Findings (the controller client from status
/// readbacks and module tests, frame analysis from captures, lighting from RDM); Warranty
/// classes them against the policy. The type is plain Codable data so a Finding list can be
/// written to a file by one tool and read by another (`ledsentry cases ingest --findings`).
public struct Finding: Codable, Sendable, Hashable {
    /// Which kind of observation produced the finding.
    public enum Source: String, Codable, Sendable, CaseIterable {
        /// Voltages, currents, temperatures, shorts read from the controller.
        case electrical
        /// A camera capture analysed by FrameAnalysis.
        case optical
        /// Status and counters the controller reports (link state, checksums, parameters).
        case telemetry
        /// The controller's own module self-test.
        case moduleTest = "module-test"
        /// DMX/RDM lighting fixtures.
        case lighting
    }

    public var source: Source
    public var location: FaultLocation
    public var kind: FaultKind
    /// What was measured: e.g. temperature 92 °C against a limit of 75 °C.
    public var measurements: [MeasuredValue]
    /// Files that show the fault (captures, annotated PNGs, dumps, logs), by the name under
    /// which they are handed to the warranty intake, or by SHA-256 digest once stored.
    public var evidence: [EvidenceReference]
    /// Text facts that are not numbers: a parameter name, its expected and actual setting,
    /// a firmware version. Remote-guidance steps quote them (`{parameter}`, `{expected}`).
    public var attributes: [String: String]
    /// A sentence for people; optional, the kind and location already identify the fault.
    public var detail: String?
    public var observedAt: Date?

    public init(source: Source, location: FaultLocation, kind: FaultKind,
                measurements: [MeasuredValue] = [], evidence: [EvidenceReference] = [],
                attributes: [String: String] = [:], detail: String? = nil, observedAt: Date? = nil) {
        self.source = source
        self.location = location
        self.kind = kind
        self.measurements = measurements
        self.evidence = evidence
        self.attributes = attributes
        self.detail = detail
        self.observedAt = observedAt
    }

    /// The value of the first measurement with this name, if any.
    public func measurement(_ name: String) -> Double? {
        measurements.first { $0.name == name }?.value
    }

    public init(from decoder: any Decoder) throws {
        // Only source, location and kind are required, so hand-written finding files stay short.
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decode(Source.self, forKey: .source)
        location = try c.decodeIfPresent(FaultLocation.self, forKey: .location) ?? FaultLocation()
        kind = try c.decode(FaultKind.self, forKey: .kind)
        measurements = try c.decodeIfPresent([MeasuredValue].self, forKey: .measurements) ?? []
        evidence = try c.decodeIfPresent([EvidenceReference].self, forKey: .evidence) ?? []
        attributes = try c.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
        detail = try c.decodeIfPresent(String.self, forKey: .detail)
        observedAt = try c.decodeIfPresent(Date.self, forKey: .observedAt)
    }
}

/// Where a fault is. Display faults use product/controller/cabinet/module/LED; lighting faults
/// use an RDM UID and a DMX channel. Every field is optional: a finding names as much as is
/// known, and a coarser location (a cabinet) covers everything inside it.
///
/// `led` is in whole-screen LED coordinates (0,0 top-left), so LED-rate rules can look at any
/// 100x100 region regardless of module boundaries.
public struct FaultLocation: Codable, Sendable, Hashable {
    public var productSerial: String?
    /// The controller (sending card) or port the fault was seen through.
    public var controller: String?
    public var cabinet: Int?
    public var module: Int?
    public var led: LEDPosition?
    /// A row or column for line faults.
    public var line: Line?
    /// A colour channel of an LED, or a DMX channel of a fixture.
    public var channel: Int?
    /// An RDM UID written as `XXXX:YYYYYYYY`.
    public var lightingUID: String?

    public struct LEDPosition: Codable, Sendable, Hashable {
        public var x: Int
        public var y: Int
        public init(x: Int, y: Int) { self.x = x; self.y = y }
    }

    public struct Line: Codable, Sendable, Hashable {
        public enum Axis: String, Codable, Sendable { case row, column }
        public var axis: Axis
        public var index: Int
        public init(axis: Axis, index: Int) { self.axis = axis; self.index = index }
    }

    public init(productSerial: String? = nil, controller: String? = nil, cabinet: Int? = nil,
                module: Int? = nil, led: LEDPosition? = nil, line: Line? = nil,
                channel: Int? = nil, lightingUID: String? = nil) {
        self.productSerial = productSerial
        self.controller = controller
        self.cabinet = cabinet
        self.module = module
        self.led = led
        self.line = line
        self.channel = channel
        self.lightingUID = lightingUID
    }

    /// A stable text form, most general part first, used in fingerprints and tables:
    /// `cabinet=4/module=2/led=130,7`. The product serial is left out (it is keyed separately).
    public var canonical: String {
        var parts: [String] = []
        if let controller { parts.append("controller=\(controller)") }
        if let cabinet { parts.append("cabinet=\(cabinet)") }
        if let module { parts.append("module=\(module)") }
        if let line { parts.append("\(line.axis.rawValue)=\(line.index)") }
        if let led { parts.append("led=\(led.x),\(led.y)") }
        if let channel { parts.append("channel=\(channel)") }
        if let lightingUID { parts.append("uid=\(lightingUID.uppercased())") }
        return parts.isEmpty ? "product" : parts.joined(separator: "/")
    }

    /// What identifies the place across runs, for "the same fault" (dedupe). The port a
    /// fault was seen through is not part of it (a controller plugged into another USB port is
    /// the same screen), nor a fixture's DMX address (a fixture is its RDM UID), unless
    /// nothing else names the place.
    public var identity: String {
        if let lightingUID { return "uid=\(lightingUID.uppercased())" }
        var place = self
        place.controller = nil
        let text = place.canonical
        return text == "product" && controller != nil ? "controller=\(controller!)" : text
    }

    /// The same place in words: "cabinet 4, module 2, LED (130, 7)".
    public var description: String {
        var parts: [String] = []
        if let controller { parts.append("controller \(controller)") }
        if let cabinet { parts.append("cabinet \(cabinet)") }
        if let module { parts.append("module \(module)") }
        if let line { parts.append("\(line.axis.rawValue) \(line.index)") }
        if let led { parts.append("LED (\(led.x), \(led.y))") }
        if let channel { parts.append("channel \(channel)") }
        if let lightingUID { parts.append("fixture \(lightingUID.uppercased())") }
        return parts.isEmpty ? "whole product" : parts.joined(separator: ", ")
    }
}

/// What went wrong, as an open set of names: the well-known kinds are constants, and a
/// producer may name a new kind without changing this file (the policy then decides how to
/// class it, falling back to its default rule).
public struct FaultKind: RawRepresentable, Codable, Sendable, Hashable, ExpressibleByStringLiteral,
    CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public var description: String { rawValue }

    // Single LEDs ("out of control" in SJ/T 11141 terms).
    public static let deadLED: FaultKind = "dead-led"
    public static let stuckLED: FaultKind = "stuck-led"
    public static let dimLED: FaultKind = "dim-led"
    /// A colour channel of one LED dead (an ISO 13406-2 type 3 sub-pixel fault).
    public static let deadSubpixel: FaultKind = "dead-subpixel"
    // Larger units.
    public static let deadLine: FaultKind = "dead-line"
    public static let deadModule: FaultKind = "dead-module"
    public static let deadCabinet: FaultKind = "dead-cabinet"
    public static let receivingCardFailure: FaultKind = "receiving-card-failure"
    public static let moduleTestFailed: FaultKind = "module-test-failed"
    // Electrical safety.
    public static let overTemperature: FaultKind = "over-temperature"
    public static let underVoltage: FaultKind = "under-voltage"
    public static let overVoltage: FaultKind = "over-voltage"
    public static let shortCircuit: FaultKind = "short-circuit"
    // Manufacturing quality.
    public static let calibrationChecksum: FaultKind = "calibration-checksum"
    public static let driverICMissing: FaultKind = "driver-ic-missing"
    // Installation and use (usually solved remotely).
    public static let dataChainBroken: FaultKind = "data-chain-broken"
    public static let looseCable: FaultKind = "loose-cable"
    public static let parameterMismatch: FaultKind = "parameter-mismatch"
    public static let linkUnavailable: FaultKind = "link-unavailable"
    // Lighting.
    public static let lampFailure: FaultKind = "lamp-failure"
    public static let fixtureNotResponding: FaultKind = "fixture-not-responding"
}

/// One measured quantity, with the limit it was judged against when there is one.
public struct MeasuredValue: Codable, Sendable, Hashable {
    public var name: String
    public var value: Double
    public var unit: String?
    public var limit: Double?

    public init(name: String, value: Double, unit: String? = nil, limit: Double? = nil) {
        self.name = name
        self.value = value
        self.unit = unit
        self.limit = limit
    }
}

/// A file that shows a fault. `name` is how the producer handed the file over (its file
/// name); `sha256` is filled in once the file is stored content-addressed.
public struct EvidenceReference: Codable, Sendable, Hashable {
    public enum Role: String, Codable, Sendable, CaseIterable {
        case capture, annotatedImage = "annotated-image", video, parameterDump = "parameter-dump"
        case moduleTest = "module-test", statusReadback = "status-readback"
        case linkRecording = "link-recording", log, faultList = "fault-list", other
    }
    public var name: String
    public var role: Role
    public var sha256: String?

    public init(name: String, role: Role, sha256: String? = nil) {
        self.name = name
        self.role = role
        self.sha256 = sha256
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        role = try c.decodeIfPresent(Role.self, forKey: .role) ?? .other
        sha256 = try c.decodeIfPresent(String.self, forKey: .sha256)
    }
}

/// The file a diagnostic session writes and `ledsentry cases ingest --findings` reads: the
/// findings of one run over one product, with the screen size in LEDs when known (needed to
/// turn single failed LEDs into a failure rate). A bare JSON array of findings is read too.
public struct FindingList: Codable, Sendable {
    public struct ScreenSize: Codable, Sendable, Hashable {
        public var width: Int
        public var height: Int
        public init(width: Int, height: Int) { self.width = width; self.height = height }
    }
    public var productSerial: String?
    public var screen: ScreenSize?
    public var findings: [Finding]

    public init(productSerial: String? = nil, screen: ScreenSize? = nil, findings: [Finding]) {
        self.productSerial = productSerial
        self.screen = screen
        self.findings = findings
    }

    /// Reads either form; dates are ISO 8601.
    public static func decode(_ data: Data) throws -> FindingList {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let first = data.first { !(" \t\r\n" as String).utf8.contains($0) }
        if first == UInt8(ascii: "[") { return FindingList(findings: try decoder.decode([Finding].self, from: data)) }
        return try decoder.decode(FindingList.self, from: data)
    }
}
