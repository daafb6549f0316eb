// The LEDSentry controller protocol v1 (Docs/controller-protocol.md), declared once:
// every request and response reads itself with `init(parsing:)` and writes itself with
// `serialize(into:)`, so the host, test doubles and golden tests share one definition.

/// Command codes (protocol section 4).
public enum Command: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case hello = 0x01
    case identify = 0x02
    case cabinetInfo = 0x03
    case getParameter = 0x04
    case setParameter = 0x05
    case showPattern = 0x06
    case moduleTest = 0x07
    case readLEDStatus = 0x08
    case readTelemetry = 0x09
    case readEvents = 0x0A
    case clearEvents = 0x0B
    case reboot = 0x0C
    case event = 0x80

    public var description: String {
        switch self {
        case .hello: "HELLO"
        case .identify: "IDENTIFY"
        case .cabinetInfo: "CABINET_INFO"
        case .getParameter: "GET_PARAM"
        case .setParameter: "SET_PARAM"
        case .showPattern: "SHOW_PATTERN"
        case .moduleTest: "MODULE_TEST"
        case .readLEDStatus: "READ_LED_STATUS"
        case .readTelemetry: "READ_TELEMETRY"
        case .readEvents: "READ_EVENTS"
        case .clearEvents: "CLEAR_EVENTS"
        case .reboot: "REBOOT"
        case .event: "EVENT"
        }
    }

    /// How long a host waits for one attempt (protocol section 2).
    public var attemptTimeout: Duration {
        self == .moduleTest ? .milliseconds(2500) : .milliseconds(500)
    }

    /// Reads that change nothing on the device: safe to send again as a new request when
    /// the device answers BUSY.
    public var isIdempotentRead: Bool {
        switch self {
        case .hello, .identify, .cabinetInfo, .getParameter, .readLEDStatus, .readTelemetry, .readEvents: true
        default: false
        }
    }
}

/// Response status codes (protocol section 3).
public enum Status: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case ok = 0x00
    case unknownCommand = 0x01
    case badLength = 0x02
    case outOfRange = 0x03
    case unsupportedVersion = 0x04
    case notFound = 0x05
    case busy = 0x06
    case hardwareFault = 0x07
    case readOnly = 0x08
    case unknownParameter = 0x09
    case badArgument = 0x0A

    public var description: String {
        switch self {
        case .ok: "OK"
        case .unknownCommand: "UNKNOWN_COMMAND"
        case .badLength: "BAD_LENGTH"
        case .outOfRange: "OUT_OF_RANGE"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .notFound: "NOT_FOUND"
        case .busy: "BUSY"
        case .hardwareFault: "HARDWARE_FAULT"
        case .readOnly: "READ_ONLY"
        case .unknownParameter: "UNKNOWN_PARAMETER"
        case .badArgument: "BAD_ARGUMENT"
        }
    }
}

/// A request the host sends, tied to its command and the response it expects.
public protocol ControllerRequest: WireMessage {
    associatedtype Response: WireMessage
    static var command: Command { get }
}

/// A message with no fields.
public struct EmptyMessage: WireMessage {
    public init() {}
    public init(parsing reader: inout WireReader) throws(WireFormatError) {}
    public func serialize(into bytes: inout [UInt8]) {}
}

/// A request whose payload is one `u16 cabinet` (CABINET_INFO, MODULE_TEST, READ_TELEMETRY).
public protocol CabinetRequest: ControllerRequest {
    var cabinet: UInt16 { get }
    init(cabinet: UInt16)
}

extension CabinetRequest {
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        self.init(cabinet: try reader.u16("cabinet"))
    }
    public func serialize(into bytes: inout [UInt8]) { bytes.appendLittleEndian(cabinet) }
}

/// A request with an empty payload (IDENTIFY, CLEAR_EVENTS, REBOOT).
public protocol EmptyRequest: ControllerRequest {
    init()
}

extension EmptyRequest {
    public init(parsing reader: inout WireReader) throws(WireFormatError) { self.init() }
    public func serialize(into bytes: inout [UInt8]) {}
}

// MARK: HELLO (4.1)

public struct HelloRequest: ControllerRequest {
    public typealias Response = HelloResponse
    public static let command = Command.hello
    /// The protocol versions this host speaks.
    public var versions: VersionRange
    public init(minVersion: UInt8 = 1, maxVersion: UInt8 = 1) {
        versions = VersionRange(minVersion: minVersion, maxVersion: maxVersion)
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        versions = try VersionRange(parsing: &reader)
    }
    public func serialize(into bytes: inout [UInt8]) { versions.serialize(into: &bytes) }
}

public struct Capabilities: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let eventFrames = Capabilities(rawValue: 1 << 0)
    public static let ledStatus = Capabilities(rawValue: 1 << 1)
    public static let telemetry = Capabilities(rawValue: 1 << 2)
}

public struct HelloResponse: WireMessage {
    public var version: UInt8
    public var maxPayload: UInt16
    public var capabilities: Capabilities
    public init(version: UInt8, maxPayload: UInt16, capabilities: Capabilities) {
        self.version = version
        self.maxPayload = maxPayload
        self.capabilities = capabilities
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        version = try reader.u8("version")
        maxPayload = try reader.u16("max_payload")
        capabilities = Capabilities(rawValue: try reader.u32("capabilities"))
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.append(version)
        bytes.appendLittleEndian(maxPayload)
        bytes.appendLittleEndian(capabilities.rawValue)
    }
}

// MARK: IDENTIFY (4.2)

public struct IdentifyRequest: EmptyRequest {
    public typealias Response = Identity
    public static let command = Command.identify
    public init() {}
}

/// The sending card's identity and the wall's geometry.
public struct Identity: WireMessage, Codable {
    public var model: String
    public var serial: String
    public var firmware: String
    public var hardwareRevision: String
    public var geometry: WallGeometry

    public init(model: String, serial: String, firmware: String, hardwareRevision: String,
                geometry: WallGeometry) {
        self.model = model
        self.serial = serial
        self.firmware = firmware
        self.hardwareRevision = hardwareRevision
        self.geometry = geometry
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        model = try reader.string("model")
        serial = try reader.string("serial")
        firmware = try reader.string("firmware")
        hardwareRevision = try reader.string("hardware_revision")
        geometry = try WallGeometry(parsing: &reader)
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendWireString(model)
        bytes.appendWireString(serial)
        bytes.appendWireString(firmware)
        bytes.appendWireString(hardwareRevision)
        geometry.serialize(into: &bytes)
    }
}

/// Cabinets in the wall, modules in a cabinet, LEDs in a module (the tail of IDENTIFY).
public struct WallGeometry: WireMessage, Codable, Hashable {
    public var cabinetColumns: UInt16
    public var cabinetRows: UInt16
    public var modulesX: UInt8
    public var modulesY: UInt8
    public var moduleWidth: UInt16
    public var moduleHeight: UInt16

    public init(cabinetColumns: UInt16, cabinetRows: UInt16, modulesX: UInt8, modulesY: UInt8,
                moduleWidth: UInt16, moduleHeight: UInt16) {
        self.cabinetColumns = cabinetColumns
        self.cabinetRows = cabinetRows
        self.modulesX = modulesX
        self.modulesY = modulesY
        self.moduleWidth = moduleWidth
        self.moduleHeight = moduleHeight
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        cabinetColumns = try reader.u16("cabinet_columns")
        cabinetRows = try reader.u16("cabinet_rows")
        modulesX = try reader.u8("modules_x")
        modulesY = try reader.u8("modules_y")
        moduleWidth = try reader.u16("module_width")
        moduleHeight = try reader.u16("module_height")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(cabinetColumns)
        bytes.appendLittleEndian(cabinetRows)
        bytes.append(modulesX)
        bytes.append(modulesY)
        bytes.appendLittleEndian(moduleWidth)
        bytes.appendLittleEndian(moduleHeight)
    }

    public var cabinetCount: Int { Int(cabinetColumns) * Int(cabinetRows) }
    public var modulesPerCabinet: Int { Int(modulesX) * Int(modulesY) }
    /// LEDs across and down one cabinet.
    public var cabinetWidth: Int { Int(modulesX) * Int(moduleWidth) }
    public var cabinetHeight: Int { Int(modulesY) * Int(moduleHeight) }
    public var ledsPerCabinet: Int { cabinetWidth * cabinetHeight }
    public var wallWidth: Int { Int(cabinetColumns) * cabinetWidth }
    public var wallHeight: Int { Int(cabinetRows) * cabinetHeight }

    /// Cabinet numbers are u16 and 0xFFFF names the sending card in events (4.9).
    public static let maximumCabinets = 0xFFFF
    /// One MODULE_TEST answer carries at most 170 module records (4.6).
    public static let maximumModulesPerCabinet = 170
    /// A cabinet's status length (`total`, `offset`) is a u32 (4.7).
    public static let maximumLEDsPerCabinet = Int(UInt32.max)
    /// A host holds one status byte per LED of the wall; beyond 4 GiB the answer is not a
    /// wall but a corrupt or hostile IDENTIFY.
    public static let maximumWallLEDs = Int(UInt32.max)

    /// The first way this geometry breaks the protocol's limits, naming the field; nil
    /// when it is a wall a client can read. A device's IDENTIFY is checked with this
    /// before anything loops over its cabinets or allocates its LEDs.
    public var limitViolation: String? {
        for (field, value) in [("cabinet_columns", Int(cabinetColumns)), ("cabinet_rows", Int(cabinetRows)),
                               ("modules_x", Int(modulesX)), ("modules_y", Int(modulesY)),
                               ("module_width", Int(moduleWidth)), ("module_height", Int(moduleHeight))]
        where value == 0 {
            return "\(field) is 0: a wall has at least one cabinet of one module of one LED"
        }
        if cabinetCount > Self.maximumCabinets {
            return "cabinet_columns x cabinet_rows = \(cabinetColumns) x \(cabinetRows) = \(cabinetCount) cabinets, "
                + "more than the \(Self.maximumCabinets) a u16 cabinet number can address"
        }
        if modulesPerCabinet > Self.maximumModulesPerCabinet {
            return "modules_x x modules_y = \(modulesX) x \(modulesY) = \(modulesPerCabinet) modules a cabinet, "
                + "more than the \(Self.maximumModulesPerCabinet) one MODULE_TEST answer can carry"
        }
        if ledsPerCabinet > Self.maximumLEDsPerCabinet {
            return "module_width x module_height = \(moduleWidth) x \(moduleHeight) makes a cabinet of "
                + "\(cabinetWidth) x \(cabinetHeight) LEDs, more than a u32 status length can carry"
        }
        if ledsPerCabinet * cabinetCount > Self.maximumWallLEDs {
            return "the wall of \(wallWidth) x \(wallHeight) LEDs (cabinet_columns \(cabinetColumns), cabinet_rows "
                + "\(cabinetRows)) exceeds \(Self.maximumWallLEDs) LEDs"
        }
        return nil
    }
}

// MARK: CABINET_INFO (4.3)

public struct CabinetInfoRequest: CabinetRequest {
    public typealias Response = CabinetInfo
    public static let command = Command.cabinetInfo
    public var cabinet: UInt16
    public init(cabinet: UInt16) { self.cabinet = cabinet }
}

public struct CabinetInfo: WireMessage, Codable {
    public var cabinet: UInt16
    public var serial: String
    public var firmware: String
    public var hardwareRevision: String
    public var calibrationChecksum: UInt32

    public init(cabinet: UInt16, serial: String, firmware: String, hardwareRevision: String,
                calibrationChecksum: UInt32) {
        self.cabinet = cabinet
        self.serial = serial
        self.firmware = firmware
        self.hardwareRevision = hardwareRevision
        self.calibrationChecksum = calibrationChecksum
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        cabinet = try reader.u16("cabinet")
        serial = try reader.string("serial")
        firmware = try reader.string("firmware")
        hardwareRevision = try reader.string("hardware_revision")
        calibrationChecksum = try reader.u32("calibration_checksum")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(cabinet)
        bytes.appendWireString(serial)
        bytes.appendWireString(firmware)
        bytes.appendWireString(hardwareRevision)
        bytes.appendLittleEndian(calibrationChecksum)
    }
}

// MARK: GET_PARAM / SET_PARAM (4.4)

/// A parameter id. Known ids have names; a device may report others.
public struct ParameterID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let brightness = ParameterID(rawValue: 1)
    public static let gamma = ParameterID(rawValue: 2)
    public static let refreshRate = ParameterID(rawValue: 3)
    public static let scanMode = ParameterID(rawValue: 4)
    public static let colourTemperature = ParameterID(rawValue: 5)
    public static let inputSource = ParameterID(rawValue: 6)

    /// The protocol's table (4.4): wire name and unit, one row per id.
    public static let known: [(id: ParameterID, name: String, unit: String)] = [
        (.brightness, "brightness", "percent"),
        (.gamma, "gamma", "gamma x 100"),
        (.refreshRate, "refresh_rate", "Hz"),
        (.scanMode, "scan_mode", "1/N scan"),
        (.colourTemperature, "colour_temperature", "kelvin"),
        (.inputSource, "input_source", "0 HDMI, 1 DVI, 2 DisplayPort, 3 SDI, 4 internal"),
    ]

    /// Looks a parameter up by its wire name (`refresh_rate`, also `refresh-rate`) or id.
    public init?(name: String) {
        let wanted = String(name.lowercased().map { $0 == "-" ? "_" : $0 })
        if let row = Self.known.first(where: { $0.name == wanted }) {
            self = row.id
        } else if let number = UInt8(wanted) {
            self.init(rawValue: number)
        } else {
            return nil
        }
    }

    public var name: String { Self.known.first { $0.id == self }?.name ?? "parameter_\(rawValue)" }
    public var unit: String { Self.known.first { $0.id == self }?.unit ?? "" }
    public var description: String { name }
}

public struct GetParameterRequest: ControllerRequest {
    public typealias Response = ParameterReading
    public static let command = Command.getParameter
    public var parameter: ParameterID
    public init(parameter: ParameterID) { self.parameter = parameter }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        parameter = ParameterID(rawValue: try reader.u8("param_id"))
    }
    public func serialize(into bytes: inout [UInt8]) { bytes.append(parameter.rawValue) }
}

/// A parameter's value and its allowed range.
public struct ParameterReading: WireMessage {
    public var parameter: ParameterID
    public var value: Int32
    public var minimum: Int32
    public var maximum: Int32
    public init(parameter: ParameterID, value: Int32, minimum: Int32, maximum: Int32) {
        self.parameter = parameter
        self.value = value
        self.minimum = minimum
        self.maximum = maximum
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        parameter = ParameterID(rawValue: try reader.u8("param_id"))
        value = try reader.i32("value")
        minimum = try reader.i32("min")
        maximum = try reader.i32("max")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.append(parameter.rawValue)
        bytes.appendLittleEndian(value)
        bytes.appendLittleEndian(minimum)
        bytes.appendLittleEndian(maximum)
    }
}

/// `u8 param_id, i32 value`: the SET_PARAM request and its response (the value in force).
public struct ParameterValue: WireMessage {
    public var parameter: ParameterID
    public var value: Int32
    public init(parameter: ParameterID, value: Int32) {
        self.parameter = parameter
        self.value = value
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        parameter = ParameterID(rawValue: try reader.u8("param_id"))
        value = try reader.i32("value")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.append(parameter.rawValue)
        bytes.appendLittleEndian(value)
    }
}

public struct SetParameterRequest: ControllerRequest {
    public typealias Response = ParameterValue
    public static let command = Command.setParameter
    public var setting: ParameterValue
    public init(parameter: ParameterID, value: Int32) {
        setting = ParameterValue(parameter: parameter, value: value)
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        setting = try ParameterValue(parsing: &reader)
    }
    public func serialize(into bytes: inout [UInt8]) { setting.serialize(into: &bytes) }
}

// MARK: SHOW_PATTERN (4.5)

/// A test pattern number. Known patterns have names; the device judges the rest.
public struct TestPattern: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let black = TestPattern(rawValue: 0)
    public static let red = TestPattern(rawValue: 1)
    public static let green = TestPattern(rawValue: 2)
    public static let blue = TestPattern(rawValue: 3)
    public static let white = TestPattern(rawValue: 4)
    public static let gradient = TestPattern(rawValue: 5)
    public static let grid = TestPattern(rawValue: 6)
    public static let checkerboard = TestPattern(rawValue: 7)
    public static let walkingPixel = TestPattern(rawValue: 8)
    public static let normalVideo = TestPattern(rawValue: 255)

    /// Names as the CLI accepts them, with what the argument means.
    public static let known: [(pattern: TestPattern, name: String, argument: String)] = [
        (.black, "black", "0"),
        (.red, "red", "0"),
        (.green, "green", "0"),
        (.blue, "blue", "0"),
        (.white, "white", "0"),
        (.gradient, "gradient", "0"),
        (.grid, "grid", "spacing in LEDs (0 = 8)"),
        (.checkerboard, "checkerboard", "square size in LEDs (0 = 1)"),
        (.walkingPixel, "walking-pixel", "LED index, row-major over the wall"),
        (.normalVideo, "normal", "0 (end of test, back to video input)"),
    ]

    public init?(name: String) {
        let wanted = String(name.lowercased().map { $0 == "_" ? "-" : $0 })
        guard let row = Self.known.first(where: { $0.name == wanted }) else { return nil }
        self = row.pattern
    }

    /// Whether argument 0 asks for a default that the device answers with (grid 8, checkerboard 1).
    public var hasDefaultArgument: Bool { self == .grid || self == .checkerboard }

    public var name: String { Self.known.first { $0.pattern == self }?.name ?? "pattern_\(rawValue)" }
    public var description: String { name }
}

/// `u8 pattern, u16 argument`: the SHOW_PATTERN request and its echo.
public struct PatternSelection: WireMessage {
    public var pattern: TestPattern
    public var argument: UInt16
    public init(pattern: TestPattern, argument: UInt16 = 0) {
        self.pattern = pattern
        self.argument = argument
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        pattern = TestPattern(rawValue: try reader.u8("pattern"))
        argument = try reader.u16("argument")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.append(pattern.rawValue)
        bytes.appendLittleEndian(argument)
    }
}

public struct ShowPatternRequest: ControllerRequest {
    public typealias Response = PatternSelection
    public static let command = Command.showPattern
    public var selection: PatternSelection
    public init(pattern: TestPattern, argument: UInt16 = 0) {
        selection = PatternSelection(pattern: pattern, argument: argument)
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        selection = try PatternSelection(parsing: &reader)
    }
    public func serialize(into bytes: inout [UInt8]) { selection.serialize(into: &bytes) }
}

// MARK: MODULE_TEST (4.6)

public struct ModuleTestRequest: CabinetRequest {
    public typealias Response = ModuleTestReport
    public static let command = Command.moduleTest
    public var cabinet: UInt16
    public init(cabinet: UInt16) { self.cabinet = cabinet }
}

/// Which of a module's four self-test checks passed.
public struct ModuleChecks: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let dataChainIntact = ModuleChecks(rawValue: 1 << 0)
    public static let supplyInRange = ModuleChecks(rawValue: 1 << 1)
    public static let driverICsPresent = ModuleChecks(rawValue: 1 << 2)
    public static let calibrationMatches = ModuleChecks(rawValue: 1 << 3)
    public static let all: ModuleChecks = [.dataChainIntact, .supplyInRange, .driverICsPresent, .calibrationMatches]

    /// Names of the checks that failed, for tables and messages.
    public var failedCheckNames: [String] {
        [(ModuleChecks.dataChainIntact, "data chain"), (.supplyInRange, "supply voltage"),
         (.driverICsPresent, "driver ICs"), (.calibrationMatches, "calibration checksum")]
            .filter { !contains($0.0) }.map(\.1)
    }
}

public struct ModuleTestResult: WireMessage {
    public var module: UInt8
    public var checks: ModuleChecks
    public var supplyMillivolts: UInt16
    public var driverICsExpected: UInt8
    public var driverICsFound: UInt8

    public init(module: UInt8, checks: ModuleChecks, supplyMillivolts: UInt16,
                driverICsExpected: UInt8, driverICsFound: UInt8) {
        self.module = module
        self.checks = checks
        self.supplyMillivolts = supplyMillivolts
        self.driverICsExpected = driverICsExpected
        self.driverICsFound = driverICsFound
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        module = try reader.u8("module")
        let result = try reader.u8("result")
        guard result & 0xF0 == 0 else { throw .invalidValue(field: "result", value: Int(result)) }
        checks = ModuleChecks(rawValue: result)
        supplyMillivolts = try reader.u16("supply_millivolts")
        driverICsExpected = try reader.u8("driver_ics_expected")
        driverICsFound = try reader.u8("driver_ics_found")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.append(module)
        bytes.append(checks.rawValue)
        bytes.appendLittleEndian(supplyMillivolts)
        bytes.append(driverICsExpected)
        bytes.append(driverICsFound)
    }

    /// A module passes when all four checks pass.
    public var passed: Bool { checks == .all }
}

public struct ModuleTestReport: WireMessage {
    public var cabinet: UInt16
    public var modules: [ModuleTestResult]
    public init(cabinet: UInt16, modules: [ModuleTestResult]) {
        self.cabinet = cabinet
        self.modules = modules
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        cabinet = try reader.u16("cabinet")
        let count = Int(try reader.u8("count"))
        modules = []
        for _ in 0..<count { modules.append(try ModuleTestResult(parsing: &reader)) }
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(cabinet)
        bytes.append(UInt8(modules.count))
        for module in modules { module.serialize(into: &bytes) }
    }
}

// MARK: READ_LED_STATUS (4.7)

public struct ReadLEDStatusRequest: ControllerRequest {
    public typealias Response = LEDStatusChunk
    public static let command = Command.readLEDStatus
    public var cabinet: UInt16
    public var offset: UInt32
    public var maxBytes: UInt16
    public init(cabinet: UInt16, offset: UInt32, maxBytes: UInt16) {
        self.cabinet = cabinet
        self.offset = offset
        self.maxBytes = maxBytes
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        cabinet = try reader.u16("cabinet")
        offset = try reader.u32("offset")
        maxBytes = try reader.u16("max_bytes")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(cabinet)
        bytes.appendLittleEndian(offset)
        bytes.appendLittleEndian(maxBytes)
    }
}

/// One chunk of a cabinet's per-LED status bytes.
public struct LEDStatusChunk: WireMessage {
    public var cabinet: UInt16
    public var total: UInt32
    public var offset: UInt32
    public var data: [UInt8]
    public init(cabinet: UInt16, total: UInt32, offset: UInt32, data: [UInt8]) {
        self.cabinet = cabinet
        self.total = total
        self.offset = offset
        self.data = data
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        cabinet = try reader.u16("cabinet")
        total = try reader.u32("total")
        offset = try reader.u32("offset")
        data = reader.rest()
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(cabinet)
        bytes.appendLittleEndian(total)
        bytes.appendLittleEndian(offset)
        bytes.append(contentsOf: data)
    }
}

// MARK: READ_TELEMETRY (4.8)

public struct ReadTelemetryRequest: CabinetRequest {
    public typealias Response = Telemetry
    public static let command = Command.readTelemetry
    public var cabinet: UInt16
    public init(cabinet: UInt16) { self.cabinet = cabinet }
}

public struct Telemetry: WireMessage, Codable {
    public var cabinet: UInt16
    public var temperatureDeciCelsius: Int16
    public var supplyMillivolts: UInt16
    public var fanRPM: UInt16
    public var runtimeHours: UInt32
    public var powerCycles: UInt32

    public init(cabinet: UInt16, temperatureDeciCelsius: Int16, supplyMillivolts: UInt16,
                fanRPM: UInt16, runtimeHours: UInt32, powerCycles: UInt32) {
        self.cabinet = cabinet
        self.temperatureDeciCelsius = temperatureDeciCelsius
        self.supplyMillivolts = supplyMillivolts
        self.fanRPM = fanRPM
        self.runtimeHours = runtimeHours
        self.powerCycles = powerCycles
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        cabinet = try reader.u16("cabinet")
        temperatureDeciCelsius = try reader.i16("temperature_decicelsius")
        supplyMillivolts = try reader.u16("supply_millivolts")
        fanRPM = try reader.u16("fan_rpm")
        runtimeHours = try reader.u32("runtime_hours")
        powerCycles = try reader.u32("power_cycles")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(cabinet)
        bytes.appendLittleEndian(temperatureDeciCelsius)
        bytes.appendLittleEndian(supplyMillivolts)
        bytes.appendLittleEndian(fanRPM)
        bytes.appendLittleEndian(runtimeHours)
        bytes.appendLittleEndian(powerCycles)
    }
}

// MARK: READ_EVENTS / CLEAR_EVENTS / EVENT (4.9)

/// An event record's type. Types this host does not know (a newer firmware's) are kept
/// as `unknown(N)` rather than refused, so one new event kind cannot hide the whole log
/// (the robustness principle); only the record's layout is checked strictly.
public enum EventType: RawRepresentable, Hashable, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case overTemperature
    case underVoltage
    case fanStall
    case linkError
    case powerLoss
    /// A type number protocol v1 does not define.
    case unknown(UInt8)

    /// The types protocol v1 defines.
    public static let allCases: [EventType] = [.overTemperature, .underVoltage, .fanStall, .linkError, .powerLoss]

    /// Never nil: an undefined number becomes `unknown(N)` (failable only to keep the
    /// signature `RawRepresentable` callers had).
    public init?(rawValue: UInt8) {
        self = switch rawValue {
        case 1: .overTemperature
        case 2: .underVoltage
        case 3: .fanStall
        case 4: .linkError
        case 5: .powerLoss
        default: .unknown(rawValue)
        }
    }

    public var rawValue: UInt8 {
        switch self {
        case .overTemperature: 1
        case .underVoltage: 2
        case .fanStall: 3
        case .linkError: 4
        case .powerLoss: 5
        case .unknown(let number): number
        }
    }

    /// False for a type number v1 does not define.
    public var isKnown: Bool {
        if case .unknown = self { return false }
        return true
    }

    // By number, so `.unknown(1)` built by hand is still over-temperature.
    public static func == (lhs: EventType, rhs: EventType) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public var description: String {
        switch self {
        case .overTemperature: "over-temperature"
        case .underVoltage: "under-voltage"
        case .fanStall: "fan stall"
        case .linkError: "link error"
        case .powerLoss: "power loss"
        case .unknown(let number): "unknown(\(number))"
        }
    }

    /// What `value` means for this type (empty when unknown).
    public var valueUnit: String {
        switch self {
        case .overTemperature: "deci-°C"
        case .underVoltage: "10 mV"
        case .fanStall: "rpm"
        case .linkError: "errors"
        case .powerLoss, .unknown: ""
        }
    }
}

/// One 14-byte event record.
public struct EventRecord: WireMessage, Codable {
    /// `cabinet` value meaning the sending card itself.
    public static let sendingCard: UInt16 = 0xFFFF

    public var sequence: UInt32
    public var uptimeSeconds: UInt32
    public var type: EventType
    public var cabinet: UInt16
    public var value: Int16

    public init(sequence: UInt32, uptimeSeconds: UInt32, type: EventType, cabinet: UInt16, value: Int16) {
        self.sequence = sequence
        self.uptimeSeconds = uptimeSeconds
        self.type = type
        self.cabinet = cabinet
        self.value = value
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        sequence = try reader.u32("sequence")
        uptimeSeconds = try reader.u32("uptime_seconds")
        let rawType = try reader.u8("type")
        type = EventType(rawValue: rawType) ?? .unknown(rawType)
        // Reserved must be 0, like the frame's reserved flag bits: a record that says
        // otherwise is not one this host understands (found by the fuzzer).
        let reserved = try reader.u8("reserved")
        guard reserved == 0 else { throw .invalidValue(field: "reserved", value: Int(reserved)) }
        cabinet = try reader.u16("cabinet")
        value = try reader.i16("value")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(sequence)
        bytes.appendLittleEndian(uptimeSeconds)
        bytes.append(type.rawValue)
        bytes.append(0)
        bytes.appendLittleEndian(cabinet)
        bytes.appendLittleEndian(value)
    }
}

public struct ReadEventsRequest: ControllerRequest {
    public typealias Response = EventLog
    public static let command = Command.readEvents
    public var firstSequence: UInt32
    public var maxCount: UInt8
    public init(firstSequence: UInt32, maxCount: UInt8) {
        self.firstSequence = firstSequence
        self.maxCount = maxCount
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        firstSequence = try reader.u32("first_sequence")
        maxCount = try reader.u8("max_count")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(firstSequence)
        bytes.append(maxCount)
    }
}

/// `u16 stored, u8 count, count x record`.
public struct EventLog: WireMessage {
    public var stored: UInt16
    public var events: [EventRecord]
    public init(stored: UInt16, events: [EventRecord]) {
        self.stored = stored
        self.events = events
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        stored = try reader.u16("stored")
        let count = Int(try reader.u8("count"))
        events = []
        for _ in 0..<count { events.append(try EventRecord(parsing: &reader)) }
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(stored)
        bytes.append(UInt8(events.count))
        for event in events { event.serialize(into: &bytes) }
    }
}

public struct ClearEventsRequest: EmptyRequest {
    public typealias Response = ClearEventsResponse
    public static let command = Command.clearEvents
    public init() {}
}

public struct ClearEventsResponse: WireMessage {
    public var cleared: UInt16
    public init(cleared: UInt16) { self.cleared = cleared }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        cleared = try reader.u16("cleared")
    }
    public func serialize(into bytes: inout [UInt8]) { bytes.appendLittleEndian(cleared) }
}

// MARK: REBOOT (4)

public struct RebootRequest: EmptyRequest {
    public typealias Response = EmptyMessage
    public static let command = Command.reboot
    public init() {}
}

// MARK: Error payloads (section 3)

/// Payload of an `OUT_OF_RANGE` response.
public struct OutOfRangeDetail: WireMessage {
    public var parameter: ParameterID
    public var minimum: Int32
    public var maximum: Int32
    public init(parameter: ParameterID, minimum: Int32, maximum: Int32) {
        self.parameter = parameter
        self.minimum = minimum
        self.maximum = maximum
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        parameter = ParameterID(rawValue: try reader.u8("param_id"))
        minimum = try reader.i32("min")
        maximum = try reader.i32("max")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.append(parameter.rawValue)
        bytes.appendLittleEndian(minimum)
        bytes.appendLittleEndian(maximum)
    }
}

/// `u8 min_version, u8 max_version`: a HELLO request and an `UNSUPPORTED_VERSION` payload.
public struct VersionRange: WireMessage {
    public var minVersion: UInt8
    public var maxVersion: UInt8
    public init(minVersion: UInt8, maxVersion: UInt8) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
    }
    public init(parsing reader: inout WireReader) throws(WireFormatError) {
        minVersion = try reader.u8("min_version")
        maxVersion = try reader.u8("max_version")
    }
    public func serialize(into bytes: inout [UInt8]) {
        bytes.append(minVersion)
        bytes.append(maxVersion)
    }
}
