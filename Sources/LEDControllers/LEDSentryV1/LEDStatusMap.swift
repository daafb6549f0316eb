/// The state of one colour channel of one LED (protocol 4.7).
public enum ChannelCondition: UInt8, Sendable, Codable, CustomStringConvertible {
    case ok = 0
    case open = 1
    case short = 2
    case weak = 3

    public var description: String {
        switch self {
        case .ok: "OK"
        case .open: "OPEN"
        case .short: "SHORT"
        case .weak: "WEAK"
        }
    }
}

public enum LEDChannel: String, CaseIterable, Sendable, Codable {
    case red, green, blue
}

/// One LED's status byte: a condition per channel, or no data at all.
public struct LEDStatus: Hashable, Sendable {
    public let rawValue: UInt8

    /// Nil when bit 7 is set, which the protocol reserves as 0.
    public init?(rawValue: UInt8) {
        guard rawValue & 0x80 == 0 else { return nil }
        self.rawValue = rawValue
    }

    /// The LED's module did not answer (dead module, broken data chain).
    public var noData: Bool { rawValue & 0x40 != 0 }

    public func condition(_ channel: LEDChannel) -> ChannelCondition {
        let shift: UInt8 = switch channel { case .red: 0; case .green: 2; case .blue: 4 }
        return ChannelCondition(rawValue: (rawValue >> shift) & 0x3)!
    }

    public var isHealthy: Bool { rawValue == 0 }
}

/// Where an LED is: its cabinet and module, and its x/y in cabinet, module and wall coordinates.
public struct LEDLocation: Hashable, Sendable, Codable {
    public var cabinet: Int
    public var module: Int
    /// Within the cabinet, from its top-left LED.
    public var cabinetX: Int
    public var cabinetY: Int
    /// Within the module.
    public var moduleX: Int
    public var moduleY: Int
    /// Within the whole wall, from its top-left LED seen from the front.
    public var wallX: Int
    public var wallY: Int
}

/// One failed LED channel, or a whole LED without data.
public struct LEDFault: Hashable, Sendable, Codable {
    public enum Condition: String, Sendable, Codable {
        case open = "OPEN", short = "SHORT", weak = "WEAK", noData = "NO_DATA"
    }
    public var location: LEDLocation
    /// Nil for `noData`, which covers all channels.
    public var channel: LEDChannel?
    public var condition: Condition
}

/// The per-LED status of a whole wall, as read back from the controller.
public struct LEDStatusMap: Sendable {
    public let geometry: WallGeometry
    /// One status byte per LED, per cabinet, in cabinet row-major order; nil for a
    /// cabinet that could not be read (see `unreadableCabinets`).
    public let cabinets: [[UInt8]?]
    /// Cabinets the controller could not read, with the reason it gave.
    public let unreadableCabinets: [Int: String]

    public init(geometry: WallGeometry, cabinets: [[UInt8]?], unreadableCabinets: [Int: String] = [:]) {
        precondition(cabinets.count == geometry.cabinetCount, "one entry per cabinet")
        self.geometry = geometry
        self.cabinets = cabinets
        self.unreadableCabinets = unreadableCabinets
    }

    /// The location of LED `index` (row-major) in `cabinet`.
    public func location(cabinet: Int, index: Int) -> LEDLocation {
        let g = geometry
        let x = index % g.cabinetWidth, y = index / g.cabinetWidth
        let moduleColumn = x / Int(g.moduleWidth), moduleRow = y / Int(g.moduleHeight)
        let cabinetColumn = cabinet % Int(g.cabinetColumns), cabinetRow = cabinet / Int(g.cabinetColumns)
        return LEDLocation(
            cabinet: cabinet, module: moduleRow * Int(g.modulesX) + moduleColumn,
            cabinetX: x, cabinetY: y,
            moduleX: x % Int(g.moduleWidth), moduleY: y % Int(g.moduleHeight),
            wallX: cabinetColumn * g.cabinetWidth + x, wallY: cabinetRow * g.cabinetHeight + y)
    }

    /// The status of the LED at wall coordinates, or nil outside the wall or in an unread cabinet.
    public func status(wallX: Int, wallY: Int) -> LEDStatus? {
        let g = geometry
        guard (0..<g.wallWidth).contains(wallX), (0..<g.wallHeight).contains(wallY) else { return nil }
        let cabinet = (wallY / g.cabinetHeight) * Int(g.cabinetColumns) + wallX / g.cabinetWidth
        let index = (wallY % g.cabinetHeight) * g.cabinetWidth + wallX % g.cabinetWidth
        return cabinets[cabinet].flatMap { LEDStatus(rawValue: $0[index]) }
    }

    /// Every failed LED channel, and every LED without data, in cabinet then row-major order.
    /// O(LEDs in the wall).
    public var faults: [LEDFault] {
        var faults: [LEDFault] = []
        for (cabinet, bytes) in cabinets.enumerated() {
            guard let bytes else { continue }
            for (index, byte) in bytes.enumerated() where byte != 0 {
                guard let status = LEDStatus(rawValue: byte) else { continue }
                let location = location(cabinet: cabinet, index: index)
                if status.noData {
                    faults.append(LEDFault(location: location, channel: nil, condition: .noData))
                    continue
                }
                for channel in LEDChannel.allCases {
                    let condition: LEDFault.Condition? = switch status.condition(channel) {
                    case .ok: nil
                    case .open: .open
                    case .short: .short
                    case .weak: .weak
                    }
                    if let condition {
                        faults.append(LEDFault(location: location, channel: channel, condition: condition))
                    }
                }
            }
        }
        return faults
    }
}
