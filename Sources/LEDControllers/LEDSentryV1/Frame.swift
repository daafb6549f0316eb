/// Frame flags (protocol section 1). Bits 3-7 must be 0.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Device to host.
    public static let response = FrameFlags(rawValue: 1 << 0)
    /// Unsolicited, device to host.
    public static let event = FrameFlags(rawValue: 1 << 1)
    /// Host: this is a re-send of a request already sent.
    public static let retry = FrameFlags(rawValue: 1 << 2)

    static let reserved = FrameFlags(rawValue: 0xF8)
}

/// One protocol frame: `A5 5A`, version, flags, request id, command, status, length,
/// payload, CRC-32 (protocol section 1).
public struct Frame: Equatable, Sendable {
    public static let startOfFrame: (UInt8, UInt8) = (0xA5, 0x5A)
    public static let headerSize = 10
    public static let crcSize = 4
    public static let maximumPayload = 1024
    public static let minimumSize = headerSize + crcSize
    public static let maximumSize = minimumSize + maximumPayload
    public static let currentVersion: UInt8 = 1

    public var version: UInt8
    public var flags: FrameFlags
    public var requestID: UInt16
    /// Raw command byte: a device may echo one this host does not know.
    public var command: UInt8
    /// Raw status byte (`0` in requests); see `Status`.
    public var status: UInt8
    public var payload: [UInt8]

    public init(version: UInt8 = Frame.currentVersion, flags: FrameFlags = [], requestID: UInt16,
                command: UInt8, status: UInt8 = 0, payload: [UInt8] = []) {
        self.version = version
        self.flags = flags
        self.requestID = requestID
        self.command = command
        self.status = status
        self.payload = payload
    }

    /// Appends the frame's bytes, CRC included. The payload must be at most 1024 bytes.
    public func serialize(into bytes: inout [UInt8]) {
        precondition(payload.count <= Frame.maximumPayload, "payload over 1024 bytes")
        bytes.append(Frame.startOfFrame.0)
        bytes.append(Frame.startOfFrame.1)
        let crcStart = bytes.count
        bytes.append(version)
        bytes.append(flags.rawValue)
        bytes.appendLittleEndian(requestID)
        bytes.append(command)
        bytes.append(status)
        bytes.appendLittleEndian(UInt16(payload.count))
        bytes.append(contentsOf: payload)
        bytes.appendLittleEndian(CRC32.checksum(bytes[crcStart...]))
    }

    public var serialized: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Frame.minimumSize + payload.count)
        serialize(into: &bytes)
        return bytes
    }

    /// Parses exactly one whole frame (no bytes before or after it).
    public init(parsing bytes: [UInt8]) throws(FrameError) {
        var decoder = FrameDecoder()
        decoder.append(bytes)
        switch decoder.next() {
        case .frame(let frame) where decoder.bufferedCount == 0:
            self = frame
        case .frame:
            throw .trailingBytes
        case .rejected(let reason, _):
            throw reason
        case nil:
            throw decoder.hasPartialFrame ? .truncated : .noStartOfFrame
        }
    }
}

/// Why bytes were not accepted as a frame.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Flags bits 3-7 were set.
    case reservedFlags(UInt8)
    /// The length field exceeded 1024.
    case oversizedLength(Int)
    /// The CRC did not match.
    case badCRC(expected: UInt32, received: UInt32)
    /// The frame's bytes stopped arriving before it was complete.
    case truncated
    /// No `A5 5A` where a frame should start.
    case noStartOfFrame
    /// Bytes followed a complete frame.
    case trailingBytes

    public var description: String {
        switch self {
        case .reservedFlags(let flags): return "reserved flag bits set (flags 0x\(hex(flags)))"
        case .oversizedLength(let length): return "length \(length) exceeds the 1024-byte maximum payload"
        case .badCRC(let expected, let received):
            return "bad CRC (computed 0x\(hex(expected)), frame says 0x\(hex(received)))"
        case .truncated: return "frame truncated"
        case .noStartOfFrame: return "no start of frame (A5 5A)"
        case .trailingBytes: return "bytes after the end of the frame"
        }
    }
}

func hex<T: FixedWidthInteger>(_ value: T) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, MemoryLayout<T>.size * 2 - digits.count)) + digits
}

/// Hex dump, space separated, capped so a message stays readable.
public func hexDump(_ bytes: some Collection<UInt8>, limit: Int = 48) -> String {
    let shown = bytes.prefix(limit).map { hex($0) }.joined(separator: " ")
    return bytes.count > limit ? shown + " ... (\(bytes.count) bytes)" : shown
}

/// Finds frames in a byte stream (protocol section 1, "Delimiting and resynchronisation").
///
/// Feed bytes with `append`, then call `next()` until it returns nil (needs more bytes).
/// On a rejected header or CRC it drops only the first byte and hunts again, so a real
/// frame that starts inside rejected bytes is still found. Any input is safe: the
/// decoder never traps and holds at most one frame's worth of bytes plus what was fed.
public struct FrameDecoder: Sendable {
    public enum Output: Equatable, Sendable {
        case frame(Frame)
        /// Bytes that looked like a frame start but were not a frame; `discarded` is the
        /// candidate's first bytes (for messages), of which only one was dropped.
        case rejected(FrameError, discarded: [UInt8])
    }

    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes held that are not yet part of a returned frame.
    public var bufferedCount: Int { buffer.count - start }

    /// True when the bytes held begin a frame that is not complete yet.
    public var hasPartialFrame: Bool {
        bufferedCount > 0 && buffer[start] == Frame.startOfFrame.0
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Forgets everything held (used after a retry discards the input).
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
    }

    /// Gives up on a partial frame whose bytes stopped arriving (the 100 ms rule): drops
    /// its first byte and hunts again. Returns what was abandoned, if anything.
    public mutating func abandonPartialFrame() -> [UInt8]? {
        guard hasPartialFrame else { return nil }
        let abandoned = Array(buffer[start..<min(buffer.count, start + 16)])
        start += 1
        return abandoned
    }

    /// The next frame or rejection, or nil when more bytes are needed.
    public mutating func next() -> Output? {
        while true {
            // Hunt for A5 5A; bytes before it are outside frames and ignored.
            guard let sof = firstStartOfFrame() else { return nil }
            start = sof
            let available = buffer.count - start
            guard available >= Frame.headerSize else { return nil }

            let flags = buffer[start + 3]
            let length = Int(buffer[start + 8]) | Int(buffer[start + 9]) << 8
            if flags & FrameFlags.reserved.rawValue != 0 {
                return reject(.reservedFlags(flags))
            }
            if length > Frame.maximumPayload {
                return reject(.oversizedLength(length))
            }
            let total = Frame.minimumSize + length
            guard available >= total else { return nil }

            let crcEnd = start + Frame.headerSize + length
            let computed = CRC32.checksum(buffer[(start + 2)..<crcEnd])
            let received = UInt32(buffer[crcEnd]) | UInt32(buffer[crcEnd + 1]) << 8
                | UInt32(buffer[crcEnd + 2]) << 16 | UInt32(buffer[crcEnd + 3]) << 24
            guard computed == received else {
                return reject(.badCRC(expected: computed, received: received))
            }
            let frame = Frame(
                version: buffer[start + 2],
                flags: FrameFlags(rawValue: flags),
                requestID: UInt16(buffer[start + 4]) | UInt16(buffer[start + 5]) << 8,
                command: buffer[start + 6],
                status: buffer[start + 7],
                payload: Array(buffer[(start + Frame.headerSize)..<crcEnd]))
            start += total
            return .frame(frame)
        }
    }

    /// Index of the next `A5 5A` (or of a final lone `A5`, which may be the start of one).
    private mutating func firstStartOfFrame() -> Int? {
        var index = start
        while index < buffer.count {
            if buffer[index] == Frame.startOfFrame.0 {
                if index + 1 == buffer.count || buffer[index + 1] == Frame.startOfFrame.1 {
                    return index
                }
            }
            index += 1
        }
        start = buffer.count
        return nil
    }

    private mutating func reject(_ reason: FrameError) -> Output {
        let discarded = Array(buffer[start..<min(buffer.count, start + 16)])
        start += 1
        return .rejected(reason, discarded: discarded)
    }
}
