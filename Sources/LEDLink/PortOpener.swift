import CLibSerialPort
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Which code drives a serial path, and why.
public enum SerialBackend: Equatable, Sendable {
    case libserialport
    /// Plain termios, with the reason libserialport cannot be used.
    case termios(reason: String)
}

/// Opens what a user typed after `--port`:
/// - a device path (/dev/ttyUSB0, a /dev/serial/by-id link, the emulator's /dev/pts/N or a
///   link to it): real ports go through libserialport; pseudo-terminals and other ports it
///   cannot open go through `TermiosTransport`, and the reason is logged;
/// - `usb`, `usb:VID:PID` or `usb:VID:PID:SERIAL` (hex ids): a controller on USB bulk;
/// - a USB serial number: the USB-serial adapter with it (`listPorts()`), else the LEDSentry
///   USB controller with it.
public func openPort(_ spec: String, baudRate: Int = 115_200,
                     logger: Logger = Logger(label: "ledsentry.link")) throws(LinkError) -> any Transport {
    guard !spec.isEmpty else { throw .invalidArgument("empty port name") }
    if let usb = try USBPortSpec(parsing: spec) {
        return try USBBulkTransport(vendorID: usb.vendorID, productID: usb.productID, serial: usb.serial)
    }
    if !spec.contains("/") {
        let ports = (try? listPorts()) ?? []
        if !ports.contains(where: { $0.usbSerial == spec }) {
            do {
                return try USBBulkTransport(serial: spec)
            } catch .notFound {
                throw .notFound(port: "USB serial number \(spec)")
            }
        }
    }
    let path = spec.contains("/") ? spec : try pathForSerialNumber(spec)
    switch try serialBackend(for: path) {
    case .libserialport:
        do {
            return try SerialTransport(path: path, baudRate: baudRate)
        } catch .system(_, "open", ENOTTY, _) {
            // A tty-like node without modem-line ioctls (a PTY behind a symlink in /dev).
            logger.info("\(path): using termios: libserialport cannot open it (no modem-line ioctls)")
            return try TermiosTransport(path: path, baudRate: baudRate)
        }
    case .termios(let reason):
        logger.info("\(path): using termios: \(reason)")
        return try TermiosTransport(path: path, baudRate: baudRate)
    }
}

/// Picks the backend for `path` without opening it. libserialport 0.1.1 describes a port
/// only from /sys/class/tty/NAME, which pseudo-terminals do not have, and its open needs
/// TIOCMGET, which PTYs refuse.
public func serialBackend(for path: String) throws(LinkError) -> SerialBackend {
    if path.hasPrefix("/dev/pts/") || path == "/dev/ptmx" {
        return .termios(reason: "\(path) is a pseudo-terminal")
    }
    if knownToLibSerialPort(path) { return .libserialport }
    let resolved = realPath(path)
    guard let resolved else { throw .notFound(port: path) }
    if resolved.hasPrefix("/dev/pts/") {
        return .termios(reason: "it is a link to the pseudo-terminal \(resolved)")
    }
    if resolved != path, knownToLibSerialPort(resolved) { return .libserialport }
    let name = resolved.split(separator: "/").last.map(String.init) ?? resolved
    return .termios(reason: "libserialport does not know it (no /sys/class/tty/\(name))")
}

/// The one port whose USB adapter has this serial number.
func pathForSerialNumber(_ serial: String) throws(LinkError) -> String {
    let matches = try listPorts().filter { $0.usbSerial == serial }
    guard let first = matches.first else { throw .notFound(port: "USB serial number \(serial)") }
    guard matches.count == 1 else {
        throw .invalidArgument("USB serial number \(serial) matches \(matches.map(\.path).joined(separator: ", "))")
    }
    return first.path
}

private func knownToLibSerialPort(_ path: String) -> Bool {
    guard path.hasPrefix("/dev/") else { return false }
    var port: OpaquePointer?
    guard sp_get_port_by_name(path, &port) == SP_OK, let port else { return false }
    sp_free_port(port)
    return true
}

private func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// `usb`, `usb:VID:PID` or `usb:VID:PID:SERIAL`, ids in hex.
struct USBPortSpec: Equatable {
    var vendorID = USBBulkTransport.ledsentryVendorID
    var productID = USBBulkTransport.ledsentryProductID
    var serial: String?

    /// nil when `spec` is not a USB spec at all; throws when it is one but malformed.
    init?(parsing spec: String) throws(LinkError) {
        let fields = spec.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.first?.lowercased() == "usb" else { return nil }
        switch fields.count {
        case 1: break
        case 3, 4:
            guard let vendor = UInt16(fields[1], radix: 16), let product = UInt16(fields[2], radix: 16) else {
                throw .invalidArgument("'\(spec)': expected usb:VID:PID[:SERIAL] with hex ids, e.g. usb:1209:4c53")
            }
            vendorID = vendor
            productID = product
            serial = fields.count == 4 && !fields[3].isEmpty ? String(fields[3]) : nil
        default:
            throw .invalidArgument("'\(spec)': expected usb:VID:PID[:SERIAL] with hex ids, e.g. usb:1209:4c53")
        }
    }

    init(vendorID: UInt16, productID: UInt16, serial: String?) {
        self.vendorID = vendorID
        self.productID = productID
        self.serial = serial
    }
}
