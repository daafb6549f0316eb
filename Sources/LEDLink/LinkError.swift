/// The few ways a link can fail, each with one meaning (after libserialport's `sp_return`).
/// Every case names the port so a message alone tells the user where it happened.
public enum LinkError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The caller asked for something impossible (bad baud rate, empty path, ...).
    case invalidArgument(String)
    /// No device at that path, serial number or VID:PID.
    case notFound(port: String)
    /// The device exists but this user may not open it.
    case permissionDenied(port: String, hint: String)
    /// Another process holds the device or its interface.
    case busy(port: String)
    /// The operating system said no; its code and words are kept.
    case system(port: String, operation: String, code: Int32, message: String)
    /// The deadline passed before the operation completed.
    case timedOut(port: String, operation: String)
    /// The device went away (unplug, hang-up) while open.
    case disconnected(port: String)
    /// The transport cannot do this (e.g. a replayed session has no modem lines).
    case unsupported(String)

    public var description: String {
        switch self {
        case .invalidArgument(let what): return "invalid argument: \(what)"
        case .notFound(let port): return "\(port): no such device"
        case .permissionDenied(let port, let hint): return "\(port): permission denied (\(hint))"
        case .busy(let port): return "\(port): device is busy (opened by another program)"
        case .system(let port, let operation, let code, let message):
            return "\(port): \(operation) failed: \(message) (errno \(code))"
        case .timedOut(let port, let operation): return "\(port): \(operation) timed out"
        case .disconnected(let port): return "\(port): device disconnected"
        case .unsupported(let what): return "unsupported: \(what)"
        }
    }
}
