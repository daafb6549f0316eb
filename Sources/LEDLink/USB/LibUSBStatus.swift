import CLibUSB

/// libusb's error codes as a Swift enum, so the mapping below is an exhaustive switch and
/// the compiler flags a code left unmapped. The raw values are libusb's (tested against
/// the C constants).
enum LibUSBStatus: Int32, CaseIterable {
    case io = -1
    case invalidParameter = -2
    case access = -3
    case noDevice = -4
    case notFound = -5
    case busy = -6
    case timeout = -7
    case overflow = -8
    case pipe = -9
    case interrupted = -10
    case noMemory = -11
    case notSupported = -12
    case other = -99

    /// Passes counts and success (>= 0) through; turns an error into the `LinkError`
    /// that says what a person can do about it.
    @discardableResult
    static func check(_ code: Int32, port: String, operation: String) throws(LinkError) -> Int32 {
        guard code < 0 else { return code }
        throw (LibUSBStatus(rawValue: code) ?? .other).linkError(port: port, operation: operation)
    }

    func linkError(port: String, operation: String) -> LinkError {
        let message = String(cString: libusb_strerror(rawValue))
        switch self {
        case .access: return .permissionDenied(port: port, hint: Self.permissionHint)
        case .busy: return .busy(port: port)
        case .noDevice: return .disconnected(port: port)
        case .timeout: return .timedOut(port: port, operation: operation)
        case .invalidParameter: return .invalidArgument("\(port): \(operation): \(message)")
        case .notSupported: return .unsupported("\(port): \(operation): \(message)")
        case .io, .notFound, .overflow, .pipe, .interrupted, .noMemory, .other:
            return .system(port: port, operation: operation, code: rawValue, message: "libusb: \(message)")
        }
    }

    static let permissionHint = "install the udev rule from Docs/usb-and-serial.md: "
        + #"SUBSYSTEM=="usb", ATTR{idVendor}=="1209", ATTR{idProduct}=="4c53", MODE="0660", TAG+="uaccess""#
}
