import Foundation
import LEDControllers

/// The JSON files an inspection keeps as evidence, one type per file, so an after-sales
/// engineer (or a script) can read what the controller said without the tool.
public enum EvidenceDocuments {
    /// `parameters.json`: identity, cabinets and every parameter with its range.
    public struct ParameterDump: Codable, Sendable {
        public struct Parameter: Codable, Sendable {
            public var name: String
            public var id: Int
            public var value: Int
            public var min: Int
            public var max: Int
            public var unit: String
        }
        public struct Cabinet: Codable, Sendable {
            public var cabinet: Int
            public var info: CabinetInfo?
            public var error: String?
        }
        public var port: String
        public var identity: Identity
        public var cabinets: [Cabinet]
        public var parameters: [Parameter]
        public var unreadableParameters: [String: String]
    }

    /// `module-test.json`: every module's self-test result.
    public struct ModuleTests: Codable, Sendable {
        public struct Row: Codable, Sendable {
            public var cabinet: Int
            public var module: Int
            public var passed: Bool
            public var failedChecks: [String]
            public var supplyMillivolts: Int
            public var driverICsExpected: Int
            public var driverICsFound: Int
        }
        public var modules: [Row]
        public var unreadableCabinets: [String: String]

        public init(_ reports: [ModuleTestReport], unreadable: [Int: String]) {
            modules = reports.flatMap { report in
                report.modules.map { m in
                    Row(cabinet: Int(report.cabinet), module: Int(m.module), passed: m.passed, failedChecks: m.checks.failedCheckNames,
                        supplyMillivolts: Int(m.supplyMillivolts), driverICsExpected: Int(m.driverICsExpected),
                        driverICsFound: Int(m.driverICsFound))
                }
            }
            unreadableCabinets = Dictionary(uniqueKeysWithValues: unreadable.map { (String($0.key), $0.value) })
        }
    }

    /// `led-status.json`: the per-LED readback: every failed channel at its place, and the raw
    /// status bytes per cabinet (base64, one byte per LED, row-major; protocol 4.7).
    public struct StatusReadback: Codable, Sendable {
        public var geometry: WallGeometry
        public var failed: [LEDFault]
        public var rawStatus: [String: String]
        public var unreadableCabinets: [String: String]

        public init(_ map: LEDStatusMap) {
            geometry = map.geometry
            failed = map.faults
            var raw: [String: String] = [:]
            for (cabinet, bytes) in map.cabinets.enumerated() { if let bytes { raw[String(cabinet)] = Data(bytes).base64EncodedString() } }
            rawStatus = raw
            unreadableCabinets = Dictionary(uniqueKeysWithValues: map.unreadableCabinets.map { (String($0.key), $0.value) })
        }
    }

    /// `telemetry-events.json`: per-cabinet telemetry now, and the controller's event log.
    public struct Health: Codable, Sendable {
        public var telemetry: [Telemetry]
        public var events: [EventRecord]
        public var unreadableCabinets: [String: String]
    }

    /// Writes `value` as JSON at `url` (via a temporary name and a rename: never half a file);
    /// `pretty: false` for files that can hold one entry per LED.
    static func write(_ value: some Encodable, to url: URL, pretty: Bool = true) throws(CaptureError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            try encoder.encode(value).write(to: url, options: .atomic)
        } catch {
            throw .io(path: url.path, reason: error.localizedDescription)
        }
    }
}
