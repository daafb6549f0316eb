/// An RDM unique id (E1.20 section 5.1): a 16-bit ESTA manufacturer id and a 32-bit device
/// id, written `MMMM:DDDDDDDD` in hex. Ordered as the 48-bit number discovery searches.
public struct RDMUID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public let manufacturer: UInt16
    public let device: UInt32

    public init(manufacturer: UInt16, device: UInt32) {
        self.manufacturer = manufacturer
        self.device = device
    }

    /// The 48-bit value (manufacturer in the high 16 bits).
    public init(rawValue: UInt64) {
        manufacturer = UInt16(truncatingIfNeeded: rawValue >> 32)
        device = UInt32(truncatingIfNeeded: rawValue)
    }

    public var rawValue: UInt64 { UInt64(manufacturer) << 32 | UInt64(device) }

    /// Parses `7FF0:12345678` (case-insensitive; OLA prints lower case).
    public init?(string: String) {
        let parts = string.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 8,
              let m = UInt16(parts[0], radix: 16), let d = UInt32(parts[1], radix: 16) else { return nil }
        self.init(manufacturer: m, device: d)
    }

    /// Every device on the line: FFFF:FFFFFFFF.
    public static let allDevices = RDMUID(manufacturer: 0xFFFF, device: 0xFFFF_FFFF)
    /// Every device of one manufacturer: MMMM:FFFFFFFF.
    public static func allDevices(of manufacturer: UInt16) -> RDMUID {
        RDMUID(manufacturer: manufacturer, device: 0xFFFF_FFFF)
    }
    /// The highest UID a device may have (the broadcast UID excluded).
    public static let highestDevice = RDMUID(rawValue: 0xFFFF_FFFF_FFFE)

    public var isBroadcast: Bool { device == 0xFFFF_FFFF }

    public var description: String {
        hex(UInt64(manufacturer), digits: 4) + ":" + hex(UInt64(device), digits: 8)
    }

    public static func < (a: RDMUID, b: RDMUID) -> Bool { a.rawValue < b.rawValue }

    /// Six bytes, big-endian, as on the wire.
    func write(into bytes: inout [UInt8]) {
        bytes.append(UInt8(manufacturer >> 8))
        bytes.append(UInt8(truncatingIfNeeded: manufacturer))
        bytes.appendBigEndian(device)
    }

    init<Bytes: Collection<UInt8>>(wire bytes: Bytes) where Bytes.Index == Int {
        let b = bytes.startIndex
        self.init(manufacturer: UInt16(bytes[b]) << 8 | UInt16(bytes[b + 1]),
                  device: UInt32(bigEndian: bytes, at: b + 2))
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let uid = RDMUID(string: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not a UID: \(text)"))
        }
        self = uid
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

func hex(_ value: UInt64, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }
}

extension UInt16 {
    init<Bytes: Collection<UInt8>>(bigEndian bytes: Bytes, at i: Int) where Bytes.Index == Int {
        self = UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
    }
}

extension UInt32 {
    init<Bytes: Collection<UInt8>>(bigEndian bytes: Bytes, at i: Int) where Bytes.Index == Int {
        self = UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8
            | UInt32(bytes[i + 3])
    }
}
