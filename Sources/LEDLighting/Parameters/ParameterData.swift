/// Typed parameter data of the PIDs a service engineer needs, each declared once with
/// `init(parsing:)` from the reply data.

/// Status types (E1.20 table A-4): the severity a STATUS_MESSAGES request asks for.
public enum RDMStatusType: UInt8, Sendable, Codable, CaseIterable {
    case none = 0x00, getLastMessage = 0x01, advisory = 0x02, warning = 0x03, error = 0x04

    public var name: String {
        switch self {
        case .none: return "none"
        case .getLastMessage: return "last"
        case .advisory: return "advisory"
        case .warning: return "warning"
        case .error: return "error"
        }
    }
}

private func need(_ data: [UInt8], _ count: Int, _ parameter: RDMParameter, exact: Bool = true) throws(LightingError) {
    if exact ? data.count != count : data.count < count {
        throw .malformedData(parameter: parameter, detail: "\(data.count) bytes, expected \(exact ? "" : "at least ")\(count)")
    }
}

private func text(_ bytes: ArraySlice<UInt8>) -> String {
    // Labels are ASCII; stop at a NUL some devices pad with.
    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
}

/// DEVICE_INFO (E1.20 10.5.1).
public struct DeviceInfo: Equatable, Sendable, Codable {
    public var protocolVersion: UInt16
    public var modelID: UInt16
    public var productCategory: UInt16
    public var softwareVersion: UInt32
    public var footprint: UInt16
    public var personality: UInt8
    public var personalityCount: UInt8
    public var startAddress: UInt16
    public var subDeviceCount: UInt16
    public var sensorCount: UInt8

    public init(parsing d: [UInt8]) throws(LightingError) {
        try need(d, 19, .deviceInfo)
        protocolVersion = UInt16(bigEndian: d, at: 0)
        modelID = UInt16(bigEndian: d, at: 2)
        productCategory = UInt16(bigEndian: d, at: 4)
        softwareVersion = UInt32(bigEndian: d, at: 6)
        footprint = UInt16(bigEndian: d, at: 10)
        personality = d[12]
        personalityCount = d[13]
        startAddress = UInt16(bigEndian: d, at: 14)
        subDeviceCount = UInt16(bigEndian: d, at: 16)
        sensorCount = d[18]
    }
}

/// SENSOR_DEFINITION (E1.20 10.7.1). Values are in `unit` scaled by `prefix`.
public struct SensorDefinition: Equatable, Sendable, Codable {
    public var number: UInt8
    public var type: UInt8
    public var unit: UInt8
    public var prefix: UInt8
    public var rangeMin: Int16, rangeMax: Int16
    public var normalMin: Int16, normalMax: Int16
    public var recordedValueSupport: UInt8
    public var description: String

    public init(parsing d: [UInt8]) throws(LightingError) {
        try need(d, 13, .sensorDefinition, exact: false)
        number = d[0]
        type = d[1]
        unit = d[2]
        prefix = d[3]
        rangeMin = Int16(bitPattern: UInt16(bigEndian: d, at: 4))
        rangeMax = Int16(bitPattern: UInt16(bigEndian: d, at: 6))
        normalMin = Int16(bitPattern: UInt16(bigEndian: d, at: 8))
        normalMax = Int16(bitPattern: UInt16(bigEndian: d, at: 10))
        recordedValueSupport = d[12]
        description = text(d[13...])
    }

    /// The unit as printed after a value, e.g. "°C", "mA", "dV" (table A-13 with A-14).
    public var unitSymbol: String {
        let units: [UInt8: String] = [0x00: "", 0x01: "°C", 0x02: "V", 0x03: "V", 0x04: "A", 0x05: "A",
                                      0x06: "Hz", 0x07: "Ω", 0x08: "W", 0x09: "kg", 0x0A: "m",
                                      0x0B: "m²", 0x0C: "m³", 0x0D: "kg/m³", 0x0E: "m/s", 0x0F: "m/s²",
                                      0x10: "N", 0x11: "J", 0x12: "Pa", 0x13: "s", 0x14: "°",
                                      0x15: "sr", 0x16: "cd", 0x17: "lm", 0x18: "lx", 0x19: "IRE", 0x1A: "B"]
        let prefixes: [UInt8: String] = [0x00: "", 0x01: "d", 0x02: "c", 0x03: "m", 0x04: "µ", 0x05: "n",
                                         0x06: "p", 0x11: "da", 0x12: "h", 0x13: "k", 0x14: "M", 0x15: "G"]
        let base = units[unit] ?? "unit \(unit)"
        return base.isEmpty ? "" : (prefixes[prefix] ?? "") + base
    }

    /// A value scaled to the unit without prefix (e.g. 1400 mA -> 1.4 A).
    public func scaled(_ value: Int16) -> Double {
        let exponents: [UInt8: Int] = [0x01: -1, 0x02: -2, 0x03: -3, 0x04: -6, 0x05: -9, 0x06: -12,
                                        0x11: 1, 0x12: 2, 0x13: 3, 0x14: 6, 0x15: 9]
        var result = Double(value)
        let exponent = exponents[prefix] ?? 0
        for _ in 0..<abs(exponent) { result = exponent < 0 ? result / 10 : result * 10 }
        return result
    }

    public func isNormal(_ value: Int16) -> Bool { value >= normalMin && value <= normalMax }
    public func isInRange(_ value: Int16) -> Bool { value >= rangeMin && value <= rangeMax }
    /// E1.20 sensor type 0x00 is temperature.
    public var isTemperature: Bool { type == 0x00 }
}

/// SENSOR_VALUE (E1.20 10.7.2).
public struct SensorValue: Equatable, Sendable, Codable {
    public var number: UInt8
    public var present: Int16, lowest: Int16, highest: Int16, recorded: Int16

    public init(parsing d: [UInt8]) throws(LightingError) {
        try need(d, 9, .sensorValue)
        number = d[0]
        present = Int16(bitPattern: UInt16(bigEndian: d, at: 1))
        lowest = Int16(bitPattern: UInt16(bigEndian: d, at: 3))
        highest = Int16(bitPattern: UInt16(bigEndian: d, at: 5))
        recorded = Int16(bitPattern: UInt16(bigEndian: d, at: 7))
    }
}

/// One status message (E1.20 10.3.2).
public struct StatusMessage: Equatable, Sendable, Codable {
    public var subDevice: UInt16
    public var type: UInt8
    public var messageID: UInt16
    public var data1: Int16, data2: Int16

    public static func list(parsing d: [UInt8]) throws(LightingError) -> [StatusMessage] {
        guard d.count % 9 == 0 else {
            throw .malformedData(parameter: .statusMessages, detail: "\(d.count) bytes is not a multiple of 9")
        }
        return stride(from: 0, to: d.count, by: 9).map { i in
            StatusMessage(subDevice: UInt16(bigEndian: d, at: i), type: d[i + 2],
                          messageID: UInt16(bigEndian: d, at: i + 3),
                          data1: Int16(bitPattern: UInt16(bigEndian: d, at: i + 5)),
                          data2: Int16(bitPattern: UInt16(bigEndian: d, at: i + 7)))
        }
    }

    public var severity: String {
        RDMStatusType(rawValue: type & 0x0F)?.name ?? "type \(type)"
    }

    public var isError: Bool { type & 0x0F == RDMStatusType.error.rawValue }

    /// E1.20 table B-2 texts for the standard ids, and LEDSentry's own ids.
    public var text: String {
        switch messageID {
        case 0x0001: return "calibration failed (sensor \(data1))"
        case 0x0002: return "sensor \(data1) not found"
        case 0x0003: return "sensor \(data1) always on"
        case 0x0011: return "lamp doused"
        case 0x0012: return "lamp failed to strike"
        case 0x0021: return "sensor \(data1) over temperature at \(data2) °C"
        case 0x0022: return "sensor \(data1) under temperature at \(data2) °C"
        case 0x0023: return "sensor \(data1) out of range"
        case 0x0031: return "phase \(data1) over voltage at \(data2) V"
        case 0x0032: return "phase \(data1) under voltage at \(data2) V"
        case 0x0033: return "phase \(data1) over current at \(data2) A"
        case 0x0034: return "phase \(data1) under current at \(data2) A"
        case 0x0044: return "dimmer failure"
        case 0x0050: return "ready"
        case 0x0051: return "not ready"
        case 0x8001: return "self-test \(data1) passed"
        case 0x8002: return "self-test \(data1) failed (code \(data2))"
        default: return "status 0x\(hex(UInt64(messageID), digits: 4)) (\(data1), \(data2))"
        }
    }
}

/// LAMP_STATE values (E1.20 table A-8).
public enum LampState {
    public static func name(_ value: UInt8) -> String {
        switch value {
        case 0x00: return "off"
        case 0x01: return "on"
        case 0x02: return "strike"
        case 0x03: return "standby"
        case 0x04: return "not present"
        case 0x7F: return "error"
        default: return value >= 0x80 && value <= 0xDF ? "manufacturer state \(value)" : "state \(value)"
        }
    }

    public static let error: UInt8 = 0x7F
}

/// One entry of DMX_PERSONALITY_DESCRIPTION or SELF_TEST_DESCRIPTION: a number, maybe a
/// footprint, and a text.
public struct NumberedDescription: Equatable, Sendable, Codable {
    public var number: UInt8
    public var footprint: UInt16?
    public var description: String

    public init(selfTest d: [UInt8]) throws(LightingError) {
        try need(d, 1, .selfTestDescription, exact: false)
        number = d[0]
        description = text(d[1...])
    }

    public init(personality d: [UInt8]) throws(LightingError) {
        try need(d, 3, .dmxPersonalityDescription, exact: false)
        number = d[0]
        footprint = UInt16(bigEndian: d, at: 1)
        description = text(d[3...])
    }
}
