/// A decoded value as a person or a JSON reader wants it.
public enum RDMFieldValue: Equatable, Sendable, Encodable, CustomStringConvertible {
    case integer(Int)
    case text(String)
    case flag(Bool)
    case list([String])

    public var description: String {
        switch self {
        case .integer(let v): return String(v)
        case .text(let v): return v
        case .flag(let v): return v ? "yes" : "no"
        case .list(let v): return v.joined(separator: ", ")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let v): try container.encode(v)
        case .text(let v): try container.encode(v)
        case .flag(let v): try container.encode(v)
        case .list(let v): try container.encode(v)
        }
    }
}

public struct RDMField: Equatable, Sendable, Encodable {
    public var name: String
    public var value: RDMFieldValue
    public init(_ name: String, _ value: RDMFieldValue) {
        self.name = name
        self.value = value
    }
}

/// Text to parameter data and back, per PID, for `ledsentry lighting get|set`. PIDs not
/// listed here still work with `hex:0102...` values and print as hex.
public enum RDMParameterText {
    /// The data of a GET: most PIDs take none; some take a sensor, test or personality
    /// number or a status type.
    public static func getData(_ parameter: RDMParameter, _ value: String?) throws(LightingError) -> [UInt8] {
        if let value, value.hasPrefix("hex:") { return try hexBytes(value) }
        switch parameter {
        case .sensorDefinition, .sensorValue, .selfTestDescription, .dmxPersonalityDescription:
            guard let value else { throw .invalidArgument("\(parameter) needs a number (e.g. 0 for the first sensor)") }
            return [try number(value, UInt8.self, parameter)]
        case .statusMessages, .queuedMessage:
            let name = value ?? (parameter == .queuedMessage ? "error" : "advisory")
            guard let type = RDMStatusType.allCases.first(where: { $0.name == name.lowercased() })
                    ?? UInt8(name).flatMap(RDMStatusType.init(rawValue:)) else {
                throw .invalidArgument("status type '\(name)': one of none, last, advisory, warning, error")
            }
            return [type.rawValue]
        default:
            guard value == nil else { throw .invalidArgument("GET \(parameter) takes no value (or hex:...)") }
            return []
        }
    }

    /// The data of a SET from what the user typed.
    public static func setData(_ parameter: RDMParameter, _ value: String?) throws(LightingError) -> [UInt8] {
        if let value, value.hasPrefix("hex:") { return try hexBytes(value) }
        guard let value else {
            throw .invalidArgument("SET \(parameter) needs a value")
        }
        switch parameter {
        case .deviceLabel:
            let bytes = Array(value.utf8)
            guard bytes.count <= 32 else { throw .invalidArgument("a device label is at most 32 bytes, not \(bytes.count)") }
            return bytes
        case .dmxStartAddress:
            let address = try number(value, UInt16.self, parameter)
            return [UInt8(address >> 8), UInt8(truncatingIfNeeded: address)]
        case .dmxPersonality:
            return [try number(value, UInt8.self, parameter)]
        case .identifyDevice:
            switch value.lowercased() {
            case "on", "1", "true", "yes": return [1]
            case "off", "0", "false", "no": return [0]
            default: throw .invalidArgument("identify is on or off, not '\(value)'")
            }
        case .lampState:
            let states = ["off": 0, "on": 1, "strike": 2, "standby": 3]
            if let state = states[value.lowercased()] { return [UInt8(state)] }
            return [try number(value, UInt8.self, parameter)]
        case .deviceHours, .lampHours, .lampStrikes, .devicePowerCycles:
            var bytes: [UInt8] = []
            bytes.appendBigEndian(try number(value, UInt32.self, parameter))
            return bytes
        case .resetDevice:
            switch value.lowercased() {
            case "warm": return [0x01]
            case "cold": return [0xFF]
            default: return [try number(value, UInt8.self, parameter)]
            }
        case .performSelfTest:
            switch value.lowercased() {
            case "all": return [0xFF]
            case "off", "stop": return [0x00]
            default: return [try number(value, UInt8.self, parameter)]
            }
        case .sensorValue:
            return value.lowercased() == "all" ? [0xFF] : [try number(value, UInt8.self, parameter)]
        default:
            throw .invalidArgument("no text form for SET \(parameter): give hex:BYTES")
        }
    }

    /// What a reply says, field by field.
    public static func describe(_ parameter: RDMParameter, _ data: [UInt8]) throws(LightingError) -> [RDMField] {
        switch parameter {
        case .deviceInfo:
            let i = try DeviceInfo(parsing: data)
            return [RDMField("protocol", .text("\(i.protocolVersion >> 8).\(i.protocolVersion & 0xFF)")),
                    RDMField("model", .integer(Int(i.modelID))),
                    RDMField("category", .text("0x" + hex(UInt64(i.productCategory), digits: 4))),
                    RDMField("software", .integer(Int(i.softwareVersion))),
                    RDMField("footprint", .integer(Int(i.footprint))),
                    RDMField("personality", .text("\(i.personality) of \(i.personalityCount)")),
                    RDMField("start address", .integer(Int(i.startAddress))),
                    RDMField("sub-devices", .integer(Int(i.subDeviceCount))),
                    RDMField("sensors", .integer(Int(i.sensorCount)))]
        case .supportedParameters:
            guard data.count % 2 == 0 else { throw .malformedData(parameter: parameter, detail: "odd length \(data.count)") }
            let pids = stride(from: 0, to: data.count, by: 2).map { RDMParameter(rawValue: UInt16(bigEndian: data, at: $0)).description }
            return [RDMField("parameters", .list(pids))]
        case .deviceModelDescription, .manufacturerLabel, .deviceLabel, .softwareVersionLabel:
            return [RDMField("text", .text(String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)))]
        case .dmxPersonality:
            guard data.count == 2 else { throw .malformedData(parameter: parameter, detail: "\(data.count) bytes, expected 2") }
            return [RDMField("personality", .integer(Int(data[0]))), RDMField("count", .integer(Int(data[1])))]
        case .dmxPersonalityDescription:
            let d = try NumberedDescription(personality: data)
            return [RDMField("personality", .integer(Int(d.number))), RDMField("footprint", .integer(Int(d.footprint ?? 0))),
                    RDMField("description", .text(d.description))]
        case .dmxStartAddress:
            guard data.count == 2 else { throw .malformedData(parameter: parameter, detail: "\(data.count) bytes, expected 2") }
            return [RDMField("start address", .integer(Int(UInt16(bigEndian: data, at: 0))))]
        case .sensorDefinition:
            let s = try SensorDefinition(parsing: data)
            return [RDMField("sensor", .integer(Int(s.number))), RDMField("description", .text(s.description)),
                    RDMField("type", .integer(Int(s.type))), RDMField("unit", .text(s.unitSymbol)),
                    RDMField("range", .text("\(s.rangeMin)...\(s.rangeMax)")),
                    RDMField("normal", .text("\(s.normalMin)...\(s.normalMax)")),
                    RDMField("records lowest/highest", .flag(s.recordedValueSupport & 0x02 != 0))]
        case .sensorValue:
            let v = try SensorValue(parsing: data)
            return [RDMField("sensor", .integer(Int(v.number))), RDMField("present", .integer(Int(v.present))),
                    RDMField("lowest", .integer(Int(v.lowest))), RDMField("highest", .integer(Int(v.highest))),
                    RDMField("recorded", .integer(Int(v.recorded)))]
        case .deviceHours, .lampHours, .lampStrikes, .devicePowerCycles:
            guard data.count == 4 else { throw .malformedData(parameter: parameter, detail: "\(data.count) bytes, expected 4") }
            return [RDMField(parameter.name ?? "value", .integer(Int(UInt32(bigEndian: data, at: 0))))]
        case .lampState:
            guard data.count == 1 else { throw .malformedData(parameter: parameter, detail: "\(data.count) bytes, expected 1") }
            return [RDMField("lamp state", .text(LampState.name(data[0])))]
        case .statusMessages:
            let messages = try StatusMessage.list(parsing: data)
            return [RDMField("messages", .list(messages.map { "\($0.severity): \($0.text)" }))]
        case .identifyDevice, .performSelfTest:
            guard data.count == 1 else { throw .malformedData(parameter: parameter, detail: "\(data.count) bytes, expected 1") }
            return [RDMField(parameter == .identifyDevice ? "identify" : "self-test active", .flag(data[0] != 0))]
        case .selfTestDescription:
            let d = try NumberedDescription(selfTest: data)
            return [RDMField("test", .integer(Int(d.number))), RDMField("description", .text(d.description))]
        default:
            return [RDMField("data", .text(data.isEmpty ? "(none)" : hexText(data)))]
        }
    }

    public static func hexText(_ bytes: [UInt8]) -> String {
        bytes.map { hex(UInt64($0), digits: 2) }.joined(separator: " ")
    }

    private static func hexBytes(_ value: String) throws(LightingError) -> [UInt8] {
        let digits = Array(value.dropFirst(4).filter { !$0.isWhitespace && $0 != ":" })
        guard digits.count % 2 == 0 else { throw .invalidArgument("hex value '\(value)' has an odd number of digits") }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(digits[i...i + 1]), radix: 16) else {
                throw .invalidArgument("'\(value)' is not hex")
            }
            bytes.append(byte)
        }
        return bytes
    }

    private static func number<T: FixedWidthInteger>(_ text: String, _ type: T.Type, _ parameter: RDMParameter) throws(LightingError) -> T {
        let lowered = text.lowercased()
        let value = lowered.hasPrefix("0x") ? T(lowered.dropFirst(2), radix: 16) : T(lowered)
        guard let value else {
            throw .invalidArgument("\(parameter) wants a number from \(T.min) to \(T.max), not '\(text)'")
        }
        return value
    }
}
