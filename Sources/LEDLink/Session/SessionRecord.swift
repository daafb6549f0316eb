#if canImport(Glibc)
import Glibc
#endif

/// One line of a recorded link session, declared once: parsed by `init(parsing:)` and
/// written by `serialize()`. A session file looks like
///
///     # ledsentry link session v1
///     # port: /dev/ttyUSB0
///     # started: 2026-11-25T08:00:00Z
///     0.000000 > a5 5a 01 00 01 00 01 00 00 00 7d 3c 8f 21
///     0.004210 < a5 5a 01 01 01 00 01 00 0c 00 ...
///     1.004400 ! timeout read
///     1.100000 ! discard
///     2.000000 ! disconnected
///
/// Times are seconds since the session started. `>` is host to device, `<` device to host.
public struct SessionRecord: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case sent([UInt8])
        case received([UInt8])
        case timedOut(operation: String)
        case discarded
        case disconnected
    }

    public var seconds: Double
    public var kind: Kind

    public init(seconds: Double, kind: Kind) {
        self.seconds = seconds
        self.kind = kind
    }

    public static let header = "# ledsentry link session v1"
    static let portPrefix = "# port: "
    static let startedPrefix = "# started: "

    /// Now as UTC ISO 8601 to the second, e.g. 2026-11-25T08:00:00Z: when a session began.
    static func utcTimestamp() -> String {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    public func serialize() -> String {
        let time = Self.format(seconds)
        switch kind {
        case .sent(let bytes): return "\(time) > \(hexString(bytes))"
        case .received(let bytes): return "\(time) < \(hexString(bytes))"
        case .timedOut(let operation): return "\(time) ! timeout \(operation)"
        case .discarded: return "\(time) ! discard"
        case .disconnected: return "\(time) ! disconnected"
        }
    }

    /// Parses one non-comment line; the error names what is wrong with it.
    public init(parsing line: Substring) throws(SessionFormatError) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        // Finite and below ~31 years, so it always formats back (no inf, nan or 1e300).
        guard fields.count >= 2, let seconds = Double(fields[0]), seconds >= 0, seconds < 1e9 else {
            throw SessionFormatError("expected '<seconds> <marker> ...'")
        }
        self.seconds = seconds
        let rest = fields.dropFirst(2)
        switch fields[1] {
        case ">": kind = .sent(try Self.bytes(rest))
        case "<": kind = .received(try Self.bytes(rest))
        case "!":
            switch rest.first {
            case "timeout": kind = .timedOut(operation: rest.dropFirst().joined(separator: " "))
            case "discard": kind = .discarded
            case "disconnected": kind = .disconnected
            default: throw SessionFormatError("unknown event '\(rest.joined(separator: " "))'")
            }
        default: throw SessionFormatError("unknown direction marker '\(fields[1])'")
        }
    }

    private static func bytes(_ fields: ArraySlice<Substring>) throws(SessionFormatError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.count)
        for field in fields {
            guard field.count == 2, let byte = UInt8(field, radix: 16) else {
                throw SessionFormatError("'\(field)' is not a hex byte")
            }
            bytes.append(byte)
        }
        guard !bytes.isEmpty else { throw SessionFormatError("no bytes after the direction marker") }
        return bytes
    }

    /// Microsecond resolution, fixed width after the point, no Foundation needed.
    private static func format(_ seconds: Double) -> String {
        let micros = Int64((seconds * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}

/// What is wrong with one line of a session file.
public struct SessionFormatError: Error, Equatable, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
}
