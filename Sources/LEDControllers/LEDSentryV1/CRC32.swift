/// CRC-32/ISO-HDLC (Ethernet, zlib, PNG): polynomial 0x04C11DB7 reflected (0xEDB88320),
/// initial value and final XOR 0xFFFFFFFF. Check value of "123456789" is 0xCBF43926.
/// Table-driven, one byte at a time: frames are at most 1038 bytes, so this is plenty.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
        return crc
    }

    /// The CRC of `bytes`.
    public static func checksum<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }
}
