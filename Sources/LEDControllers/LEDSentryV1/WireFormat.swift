/// Why a payload could not be read as the message it should be.
public enum WireFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The payload ended inside `field`.
    case truncated(field: String)
    /// Bytes were left over after the last field.
    case trailingBytes(count: Int)
    /// A field holds a value the protocol does not allow.
    case invalidValue(field: String, value: Int)
    /// A string is not UTF-8 or longer than 64 bytes.
    case invalidString(field: String)

    public var description: String {
        switch self {
        case .truncated(let field): return "payload ends inside \(field)"
        case .trailingBytes(let count): return "\(count) unexpected byte(s) after the last field"
        case .invalidValue(let field, let value): return "\(field) has invalid value \(value)"
        case .invalidString(let field): return "\(field) is not a valid string (UTF-8, at most 64 bytes)"
        }
    }
}

/// Reads little-endian fields from a payload, front to back. Every read names its field,
/// so a short payload says where it ended.
public struct WireReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var remainingCount: Int { bytes.count - offset }

    mutating func take(_ count: Int, _ field: String) throws(WireFormatError) -> ArraySlice<UInt8> {
        guard count <= remainingCount else { throw .truncated(field: field) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    private mutating func unsigned<T: FixedWidthInteger & UnsignedInteger>(
        _: T.Type, _ field: String
    ) throws(WireFormatError) -> T {
        var value: T = 0
        for (shift, byte) in try take(MemoryLayout<T>.size, field).enumerated() {
            value |= T(byte) << (8 * shift)
        }
        return value
    }

    public mutating func u8(_ field: String) throws(WireFormatError) -> UInt8 { try unsigned(UInt8.self, field) }
    public mutating func u16(_ field: String) throws(WireFormatError) -> UInt16 { try unsigned(UInt16.self, field) }
    public mutating func u32(_ field: String) throws(WireFormatError) -> UInt32 { try unsigned(UInt32.self, field) }
    public mutating func i16(_ field: String) throws(WireFormatError) -> Int16 { Int16(bitPattern: try u16(field)) }
    public mutating func i32(_ field: String) throws(WireFormatError) -> Int32 { Int32(bitPattern: try u32(field)) }

    /// `str`: a length byte 0...64, then that many bytes of UTF-8.
    public mutating func string(_ field: String) throws(WireFormatError) -> String {
        let length = Int(try u8(field))
        guard length <= 64 else { throw .invalidString(field: field) }
        guard let text = String(validating: try take(length, field), as: UTF8.self) else {
            throw .invalidString(field: field)
        }
        return text
    }

    /// Everything not yet read (a variable-length tail such as LED status data).
    public mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    /// Throws unless every byte was read: a message with extra bytes is not the message.
    public func finish() throws(WireFormatError) {
        guard remainingCount == 0 else { throw .trailingBytes(count: remainingCount) }
    }
}

/// Little-endian field writers for `serialize(into:)`.
extension Array where Element == UInt8 {
    public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        for shift in 0..<MemoryLayout<T>.size {
            append(UInt8(truncatingIfNeeded: value >> (8 * shift)))
        }
    }

    /// `str`: length byte then UTF-8. Longer strings are cut at 64 bytes on a character
    /// boundary, because the protocol cannot carry more.
    public mutating func appendWireString(_ text: String) {
        var utf8 = Array(text.utf8)
        while utf8.count > 64 || String(validating: utf8, as: UTF8.self) == nil {
            utf8.removeLast()
        }
        append(UInt8(utf8.count))
        append(contentsOf: utf8)
    }
}

/// A message declared once: read from and written to a payload by the same type.
public protocol WireMessage: Equatable, Sendable {
    init(parsing reader: inout WireReader) throws(WireFormatError)
    func serialize(into bytes: inout [UInt8])
}

extension WireMessage {
    /// Parses a whole payload; extra bytes are an error.
    public init(payload: [UInt8]) throws(WireFormatError) {
        var reader = WireReader(payload)
        try self.init(parsing: &reader)
        try reader.finish()
    }

    public var serialized: [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes)
        return bytes
    }
}
