import CLibSerialPort
#if canImport(Glibc)
import Glibc
#endif

/// A serial port as the system lists it, with what its bus says about the device behind it.
public struct PortInfo: Equatable, Sendable, CustomStringConvertible {
    /// How the port is attached; USB ports carry the adapter's identity.
    public enum Bus: Equatable, Sendable {
        case native
        case usb(vid: UInt16, pid: UInt16, serial: String?, manufacturer: String?, product: String?)
        case bluetooth(address: String?)
        /// A pseudo-terminal or other port without hardware (the emulator, socat).
        case virtual
    }

    /// The device path, e.g. /dev/ttyUSB0.
    public var path: String
    /// What libserialport calls it, e.g. "FT232R USB UART - A10KZP45".
    public var summary: String
    public var transport: Bus

    public init(path: String, summary: String, transport: Bus) {
        self.path = path
        self.summary = summary
        self.transport = transport
    }

    /// The adapter's USB serial number, if it is a USB device that has one.
    public var usbSerial: String? {
        if case .usb(_, _, let serial, _, _) = transport { return serial }
        return nil
    }

    public var description: String {
        switch transport {
        case .native: return "\(path) (native: \(summary))"
        case .usb(let vid, let pid, let serial, let manufacturer, let product):
            let id = "usb \(hex4(vid)):\(hex4(pid))"
            let words = [manufacturer, product, serial.map { "serial \($0)" }].compactMap { $0 }
            return "\(path) (\(([id] + words).joined(separator: ", ")))"
        case .bluetooth(let address): return "\(path) (bluetooth \(address ?? "?"))"
        case .virtual: return "\(path) (virtual)"
        }
    }
}

func hex4(_ value: UInt16) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 4 - digits.count) + digits
}

/// The serial ports libserialport finds (native UARTs, USB-serial, Bluetooth), sorted by
/// path. Pseudo-terminals are not listed: nothing in /sys describes them.
public func listPorts() throws(LinkError) -> [PortInfo] {
    var list: UnsafeMutablePointer<OpaquePointer?>?
    let result = sp_list_ports(&list)
    // No /sys/class/tty at all (containers, sandboxes): no serial ports, not an error.
    if result == SP_ERR_FAIL, sp_last_error_code() == ENOENT { return [] }
    try SerialPortHandle.check(result, port: "/sys/class/tty", operation: "list ports")
    guard let list else { return [] }
    defer { sp_free_port_list(list) }
    var ports: [PortInfo] = []
    var index = 0
    while let port = list[index] {
        ports.append(portInfo(port))
        index += 1
    }
    return ports.sorted { $0.path < $1.path }
}

/// Every port a controller may be on: the serial ports (`listPorts()`) and the LEDSentry
/// controllers on USB bulk, whose `path` is the spec `openPort` takes
/// (`usb:1209:4c53:SERIAL`, or `usb:1209:4c53` for one without a serial number).
public func listControllerPorts() throws(LinkError) -> [PortInfo] {
    let usb = try USBBulkTransport.list().map { device in
        PortInfo(path: "usb:\(hex4(device.vendorID)):\(hex4(device.productID))" + (device.serial.map { ":\($0)" } ?? ""),
                 summary: [device.product ?? "USB controller", device.serial].compactMap { $0 }.joined(separator: " - "),
                 transport: .usb(vid: device.vendorID, pid: device.productID, serial: device.serial,
                                 manufacturer: device.manufacturer, product: device.product))
    }
    return try listPorts() + usb
}

/// Reads one `sp_port`'s metadata.
func portInfo(_ port: OpaquePointer) -> PortInfo {
    func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
    let path = text(sp_get_port_name(port)) ?? "?"
    let summary = text(sp_get_port_description(port)) ?? path
    let bus: PortInfo.Bus
    switch sp_get_port_transport(port) {
    case SP_TRANSPORT_USB:
        var vid: Int32 = 0, pid: Int32 = 0
        sp_get_port_usb_vid_pid(port, &vid, &pid)
        bus = .usb(vid: UInt16(truncatingIfNeeded: vid), pid: UInt16(truncatingIfNeeded: pid),
                   serial: text(sp_get_port_usb_serial(port)),
                   manufacturer: text(sp_get_port_usb_manufacturer(port)),
                   product: text(sp_get_port_usb_product(port)))
    case SP_TRANSPORT_BLUETOOTH: bus = .bluetooth(address: text(sp_get_port_bluetooth_address(port)))
    default: bus = .native
    }
    return PortInfo(path: path, summary: summary, transport: bus)
}
