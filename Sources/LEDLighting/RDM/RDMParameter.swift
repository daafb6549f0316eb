/// An RDM parameter id (PID, E1.20 table A-3) with its E1.20 name.
public struct RDMParameter: RawRepresentable, Hashable, Sendable, CustomStringConvertible, Codable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let discUniqueBranch = RDMParameter(rawValue: 0x0001)
    public static let discMute = RDMParameter(rawValue: 0x0002)
    public static let discUnMute = RDMParameter(rawValue: 0x0003)
    public static let queuedMessage = RDMParameter(rawValue: 0x0020)
    public static let statusMessages = RDMParameter(rawValue: 0x0030)
    public static let supportedParameters = RDMParameter(rawValue: 0x0050)
    public static let deviceInfo = RDMParameter(rawValue: 0x0060)
    public static let deviceModelDescription = RDMParameter(rawValue: 0x0080)
    public static let manufacturerLabel = RDMParameter(rawValue: 0x0081)
    public static let deviceLabel = RDMParameter(rawValue: 0x0082)
    public static let softwareVersionLabel = RDMParameter(rawValue: 0x00C0)
    public static let dmxPersonality = RDMParameter(rawValue: 0x00E0)
    public static let dmxPersonalityDescription = RDMParameter(rawValue: 0x00E1)
    public static let dmxStartAddress = RDMParameter(rawValue: 0x00F0)
    public static let sensorDefinition = RDMParameter(rawValue: 0x0200)
    public static let sensorValue = RDMParameter(rawValue: 0x0201)
    public static let deviceHours = RDMParameter(rawValue: 0x0400)
    public static let lampHours = RDMParameter(rawValue: 0x0401)
    public static let lampStrikes = RDMParameter(rawValue: 0x0402)
    public static let lampState = RDMParameter(rawValue: 0x0403)
    public static let devicePowerCycles = RDMParameter(rawValue: 0x0405)
    public static let identifyDevice = RDMParameter(rawValue: 0x1000)
    public static let resetDevice = RDMParameter(rawValue: 0x1001)
    public static let performSelfTest = RDMParameter(rawValue: 0x1020)
    public static let selfTestDescription = RDMParameter(rawValue: 0x1021)

    /// E1.20 names, lower case as OLA's tools spell them.
    public static let names: [RDMParameter: String] = [
        .discUniqueBranch: "disc_unique_branch", .discMute: "disc_mute", .discUnMute: "disc_un_mute",
        .queuedMessage: "queued_message", .statusMessages: "status_messages",
        .supportedParameters: "supported_parameters", .deviceInfo: "device_info",
        .deviceModelDescription: "device_model_description", .manufacturerLabel: "manufacturer_label",
        .deviceLabel: "device_label", .softwareVersionLabel: "software_version_label",
        .dmxPersonality: "dmx_personality", .dmxPersonalityDescription: "dmx_personality_description",
        .dmxStartAddress: "dmx_start_address", .sensorDefinition: "sensor_definition",
        .sensorValue: "sensor_value", .deviceHours: "device_hours", .lampHours: "lamp_hours",
        .lampStrikes: "lamp_strikes", .lampState: "lamp_state", .devicePowerCycles: "device_power_cycles",
        .identifyDevice: "identify_device", .resetDevice: "reset_device",
        .performSelfTest: "perform_selftest", .selfTestDescription: "self_test_description",
    ]

    /// Accepts an E1.20 name in any case (`device_info`, `DEVICE_INFO`) or a number
    /// (`0x0060`, `96`).
    public init?(name: String) {
        let lowered = name.lowercased()
        if let found = Self.names.first(where: { $0.value == lowered })?.key {
            self = found
        } else if lowered.hasPrefix("0x"), let value = UInt16(lowered.dropFirst(2), radix: 16) {
            self.init(rawValue: value)
        } else if let value = UInt16(lowered) {
            self.init(rawValue: value)
        } else {
            return nil
        }
    }

    public var name: String? { Self.names[self] }

    public var description: String {
        let number = "0x" + hex(UInt64(rawValue), digits: 4)
        return name.map { "\($0.uppercased()) (\(number))" } ?? number
    }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(UInt16.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
