/// One message of the USB Pro widget protocol (Enttec API 1.44): `0x7E`, label,
/// payload length (16-bit little-endian), payload, `0xE7`.
public struct USBProFrame: Equatable, Sendable {
    public static let start: UInt8 = 0x7E
    public static let end: UInt8 = 0xE7
    /// The longest payload a widget accepts (a DMX frame is 513).
    public static let maxPayload = 600

    public var label: UInt8
    public var payload: [UInt8]

    public init(label: UInt8, payload: [UInt8] = []) {
        self.label = label
        self.payload = payload
    }

    public func serialize(into bytes: inout [UInt8]) {
        bytes.append(Self.start)
        bytes.append(label)
        bytes.append(UInt8(truncatingIfNeeded: payload.count))
        bytes.append(UInt8(truncatingIfNeeded: payload.count >> 8))
        bytes.append(contentsOf: payload)
        bytes.append(Self.end)
    }

    public var serialized: [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes)
        return bytes
    }
}

/// The labels LEDSentry uses (Enttec API 1.44, and OLA's extensions 77/78).
public enum USBProLabel {
    public static let getParameters: UInt8 = 3
    public static let setParameters: UInt8 = 4
    public static let receivedDMX: UInt8 = 5
    public static let sendDMX: UInt8 = 6
    public static let sendRDM: UInt8 = 7
    public static let serialNumber: UInt8 = 10
    public static let sendRDMDiscovery: UInt8 = 11
    public static let rdmTimeout: UInt8 = 12
    public static let manufacturer: UInt8 = 77
    public static let device: UInt8 = 78
}

/// Cuts a byte stream into frames. Bytes outside frames are skipped; a frame with a bad
/// end byte or an impossible length is dropped by discarding only its 0x7E, so a real frame
/// starting inside it is still found.
public struct USBProFrameReader: Sendable {
    private var buffer: [UInt8] = []
    /// Bytes skipped while hunting for frames (noise, damaged frames).
    public private(set) var skippedBytes = 0

    public init() {}

    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) { buffer.append(contentsOf: bytes) }

    public mutating func reset() { buffer.removeAll() }

    public mutating func next() -> USBProFrame? {
        while true {
            guard let start = buffer.firstIndex(of: USBProFrame.start) else {
                skippedBytes += buffer.count
                buffer.removeAll()
                return nil
            }
            if start > 0 {
                skippedBytes += start
                buffer.removeFirst(start)
            }
            guard buffer.count >= 4 else { return nil }
            let length = Int(buffer[2]) | Int(buffer[3]) << 8
            guard length <= USBProFrame.maxPayload else { dropStart(); continue }
            guard buffer.count >= length + 5 else { return nil }
            guard buffer[4 + length] == USBProFrame.end else { dropStart(); continue }
            let frame = USBProFrame(label: buffer[1], payload: Array(buffer[4..<(4 + length)]))
            buffer.removeFirst(length + 5)
            return frame
        }
    }

    private mutating func dropStart() {
        skippedBytes += 1
        buffer.removeFirst()
    }
}
