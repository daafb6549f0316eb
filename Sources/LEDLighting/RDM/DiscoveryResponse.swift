/// The reply to DISC_UNIQUE_BRANCH (E1.20 section 7.5): up to seven 0xFE preamble bytes,
/// 0xAA, then the UID and its checksum, every byte sent twice (OR-ed with 0xAA and 0x55)
/// so that two replies on the line at once almost never decode.
public enum DiscoveryResponse {
    public static let encodedSize = 24

    public enum DecodeError: Error, Equatable, Sendable {
        /// Too short or without the 0xAA separator: noise or a partial collision.
        case malformed
        /// The check bits or the checksum do not agree: two or more responders answered.
        case collision
    }

    public static func encode(_ uid: RDMUID) -> [UInt8] {
        var raw: [UInt8] = []
        uid.write(into: &raw)
        var bytes = [UInt8](repeating: 0xFE, count: 7) + [0xAA]
        var sum: UInt16 = 0
        for byte in raw {
            bytes += [byte | 0xAA, byte | 0x55]
            sum = sum &+ UInt16(byte | 0xAA) &+ UInt16(byte | 0x55)
        }
        for byte in [UInt8(sum >> 8), UInt8(truncatingIfNeeded: sum)] {
            bytes += [byte | 0xAA, byte | 0x55]
        }
        return bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> RDMUID {
        var i = 0
        while i < bytes.count, i < 7, bytes[i] == 0xFE { i += 1 }
        guard i < bytes.count, bytes[i] == 0xAA, bytes.count - i - 1 >= 16 else { throw .malformed }
        let e = Array(bytes[(i + 1)..<(i + 17)])
        var raw: [UInt8] = []
        var sum: UInt16 = 0
        for k in 0..<8 {
            let high = e[2 * k], low = e[2 * k + 1]
            guard high & 0xAA == 0xAA, low & 0x55 == 0x55 else { throw .collision }
            raw.append(high & low)
            if k < 6 { sum = sum &+ UInt16(high) &+ UInt16(low) }
        }
        guard UInt16(bigEndian: raw, at: 6) == sum else { throw .collision }
        return RDMUID(wire: raw[0..<6])
    }
}
