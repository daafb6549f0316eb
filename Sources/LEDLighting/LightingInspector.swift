/// Who a driver is: DEVICE_INFO and its labels.
public struct DriverIdentity: Equatable, Sendable, Codable {
    public var uid: RDMUID
    public var info: DeviceInfo
    public var manufacturer: String?
    public var model: String?
    public var label: String?
    public var softwareVersion: String?
}

/// One sensor's definition and present reading, judged against its ranges.
public struct SensorReading: Equatable, Sendable, Codable {
    public enum Condition: String, Sendable, Codable {
        case normal
        /// Inside the sensor's range but outside its normal range.
        case abnormal
        /// Outside what the sensor can measure: the sensor itself has failed.
        case outOfRange = "out-of-range"
    }

    public var definition: SensorDefinition
    public var value: SensorValue

    public var condition: Condition {
        if !definition.isInRange(value.present) { return .outOfRange }
        return definition.isNormal(value.present) ? .normal : .abnormal
    }
}

/// What one driver reported about itself.
public struct DriverStatus: Equatable, Sendable, Codable {
    public var uid: RDMUID
    public var messages: [StatusMessage]
    /// LAMP_STATE, when the driver supports it.
    public var lampState: UInt8?
}

/// The outcome of PERFORM_SELFTEST.
public struct SelfTestResult: Equatable, Sendable, Codable {
    public var uid: RDMUID
    public var test: UInt8
    public var description: String?
    /// nil when the driver finished but reported no verdict in its status messages.
    public var passed: Bool?
    public var messages: [StatusMessage]
    public var milliseconds: Int
}

/// A lighting fault in plain terms; Diagnostics turns these into warranty Findings.
public struct LightingIssue: Equatable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable {
        case overTemperature = "over-temperature"
        case sensorOutOfRange = "sensor-out-of-range"
        case sensorFailed = "sensor-failed"
        case selfTestFailed = "self-test-failed"
        case lampFailure = "lamp-failure"
        case statusError = "status-error"
        case noResponse = "no-response"
    }

    public var uid: RDMUID
    public var kind: Kind
    public var summary: String
    public var sensor: UInt8?
    public var measured: Double?
    public var unit: String?
    /// The normal range the measurement broke, in the same unit.
    public var normalMin: Double?, normalMax: Double?
    public var statusMessageID: UInt16?
}

/// Service-engineer operations on one driver, built on GET/SET.
public final class LightingInspector {
    public let controller: RDMController
    /// How long a self-test may run before it counts as hung.
    public var selfTestLimit: Duration = .seconds(10)

    public init(controller: RDMController) {
        self.controller = controller
    }

    public func identity(_ uid: RDMUID) throws(LightingError) -> DriverIdentity {
        let info = try DeviceInfo(parsing: controller.get(uid, .deviceInfo).data)
        return DriverIdentity(uid: uid, info: info,
                              manufacturer: try optionalText(uid, .manufacturerLabel),
                              model: try optionalText(uid, .deviceModelDescription),
                              label: try optionalText(uid, .deviceLabel),
                              softwareVersion: try optionalText(uid, .softwareVersionLabel))
    }

    public func sensors(_ uid: RDMUID) throws(LightingError) -> [SensorReading] {
        let info = try DeviceInfo(parsing: controller.get(uid, .deviceInfo).data)
        var readings: [SensorReading] = []
        for number in 0..<info.sensorCount {
            let definition = try SensorDefinition(parsing: controller.get(uid, .sensorDefinition, data: [number]).data)
            let value = try SensorValue(parsing: controller.get(uid, .sensorValue, data: [number]).data)
            readings.append(SensorReading(definition: definition, value: value))
        }
        return readings
    }

    public func status(_ uid: RDMUID) throws(LightingError) -> DriverStatus {
        let messages = try StatusMessage.list(parsing:
            controller.get(uid, .statusMessages, data: [RDMStatusType.advisory.rawValue]).data)
        var lamp: UInt8?
        do {
            lamp = try controller.get(uid, .lampState).data.first
        } catch .nacked(_, _, .unknownPID) {
            lamp = nil
        }
        return DriverStatus(uid: uid, messages: messages, lampState: lamp)
    }

    /// Starts self-test `test` (0xFF: all), waits for it to finish, and reads the verdict
    /// from the status messages (E1.20 has no result PID; LEDSentry drivers report
    /// 0x8001 passed / 0x8002 failed, others may say nothing).
    public func selfTest(_ uid: RDMUID, test: UInt8 = 1) throws(LightingError) -> SelfTestResult {
        guard test != 0 else { throw .invalidArgument("self-test 0 means 'stop'; tests are 1...254 or 255 (all)") }
        var description: String?
        if test != 0xFF {
            description = try? NumberedDescription(selfTest: controller.get(uid, .selfTestDescription, data: [test]).data).description
        }
        let started = ContinuousClock.now
        try controller.set(uid, .performSelfTest, data: [test])
        let limit = started + selfTestLimit
        while true {
            sleep(for: .milliseconds(100))
            let active = try controller.get(uid, .performSelfTest).data.first ?? 0
            if active == 0 { break }
            if ContinuousClock.now >= limit {
                _ = try? controller.set(uid, .performSelfTest, data: [0])
                throw .noResponse(uid: uid, parameter: .performSelfTest)
            }
        }
        let elapsed = started.duration(to: .now)
        let messages = try StatusMessage.list(parsing:
            controller.get(uid, .statusMessages, data: [RDMStatusType.advisory.rawValue]).data)
        let verdicts = messages.filter { $0.messageID == 0x8001 || $0.messageID == 0x8002 }
        let passed: Bool? = verdicts.isEmpty ? nil : !verdicts.contains { $0.messageID == 0x8002 }
        return SelfTestResult(uid: uid, test: test, description: description, passed: passed,
                              messages: verdicts, milliseconds: Int(elapsed.components.seconds * 1000
                                  + elapsed.components.attoseconds / 1_000_000_000_000_000))
    }

    private func optionalText(_ uid: RDMUID, _ parameter: RDMParameter) throws(LightingError) -> String? {
        do {
            return String(decoding: try controller.get(uid, parameter).data.prefix { $0 != 0 }, as: UTF8.self)
        } catch .nacked {
            return nil // optional PIDs may be unsupported
        }
    }
}

/// Turns readings into issues: the rules in one place, no I/O.
public enum LightingRules {
    public static func issues(uid: RDMUID, sensors: [SensorReading]) -> [LightingIssue] {
        sensors.compactMap { reading in
            let d = reading.definition, v = reading.value.present
            let kind: LightingIssue.Kind
            switch reading.condition {
            case .normal: return nil
            case .outOfRange: kind = .sensorFailed
            case .abnormal: kind = d.isTemperature && v > d.normalMax ? .overTemperature : .sensorOutOfRange
            }
            let unit = d.unitSymbol
            let summary = "\(d.description.isEmpty ? "sensor \(d.number)" : d.description) reads \(v) \(unit), normal \(d.normalMin)...\(d.normalMax) \(unit)"
            return LightingIssue(uid: uid, kind: kind, summary: summary, sensor: d.number,
                                 measured: Double(v), unit: unit, normalMin: Double(d.normalMin),
                                 normalMax: Double(d.normalMax), statusMessageID: nil)
        }
    }

    public static func issues(status: DriverStatus) -> [LightingIssue] {
        var found: [LightingIssue] = []
        if let lamp = status.lampState, lamp == LampState.error {
            found.append(LightingIssue(uid: status.uid, kind: .lampFailure, summary: "lamp state: error"))
        }
        for message in status.messages where message.isError && message.messageID != 0x8002 {
            let kind: LightingIssue.Kind = message.messageID == 0x0021 ? .overTemperature
                : (message.messageID == 0x0011 || message.messageID == 0x0012) ? .lampFailure : .statusError
            found.append(LightingIssue(uid: status.uid, kind: kind, summary: message.text,
                                       sensor: kind == .overTemperature ? UInt8(truncatingIfNeeded: message.data1) : nil,
                                       statusMessageID: message.messageID))
        }
        return found
    }

    public static func issues(selfTest result: SelfTestResult) -> [LightingIssue] {
        guard result.passed == false else { return [] }
        let text = result.messages.first { $0.messageID == 0x8002 }?.text ?? "self-test \(result.test) failed"
        return [LightingIssue(uid: result.uid, kind: .selfTestFailed, summary: text, statusMessageID: 0x8002)]
    }
}

extension LightingIssue {
    public init(uid: RDMUID, kind: Kind, summary: String, sensor: UInt8? = nil, statusMessageID: UInt16? = nil) {
        self.init(uid: uid, kind: kind, summary: summary, sensor: sensor, measured: nil, unit: nil,
                  normalMin: nil, normalMax: nil, statusMessageID: statusMessageID)
    }
}
