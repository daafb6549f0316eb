import Synchronization

/// A controller on USB: one vendor-specific interface with a bulk OUT and a bulk IN
/// endpoint carrying the controller protocol's byte stream, driven through libusb.
/// LEDSentry controllers use VID 0x1209 (pid.codes, for open hardware) and PID 0x4C53.
///
/// "No device", "no permission" (with the udev rule to install) and "busy" (another
/// program claimed the interface) are distinct errors; an unplug mid-transfer is
/// `.disconnected`.
public final class USBBulkTransport: Transport, Sendable {
    public static let ledsentryVendorID: UInt16 = 0x1209
    public static let ledsentryProductID: UInt16 = 0x4C53

    public let portName: String
    public let device: USBDeviceInfo

    /// Reads and writes run on their own endpoints, so each direction has its own lock
    /// (a reader waiting for an event never holds up a request). Each lock is held for
    /// its transfer; `close` takes both, so the handle is never closed under a transfer.
    private let usb: USBDeviceHandle
    /// Bytes from an IN transfer beyond what the caller asked for; nil once closed.
    private let reading = Mutex<[UInt8]?>([])
    /// false once closed.
    private let writing = Mutex(true)

    /// Size of each IN transfer: a multiple of every bulk packet size, so a device's
    /// full packet never overflows the buffer, whatever `maxCount` a caller asks for.
    static let transferSize = 16_384

    /// Opens the first device with this VID:PID (and this serial number, when given)
    /// and claims `interface`.
    public init(vendorID: UInt16 = ledsentryVendorID, productID: UInt16 = ledsentryProductID,
                serial: String? = nil, interface: Int = 0) throws(LinkError) {
        let wanted = "usb \(hex4(vendorID)):\(hex4(productID))" + (serial.map { " serial \($0)" } ?? "")
        let usb = try USBDeviceHandle()
        try usb.open(vendorID: vendorID, productID: productID, serial: serial,
                     interface: Int32(interface), name: wanted)
        guard let info = usb.info else { throw .notFound(port: wanted) }
        device = info
        portName = info.portName
        self.usb = usb
    }

    /// The devices with this VID:PID that libusb sees.
    public static func list(vendorID: UInt16 = ledsentryVendorID,
                            productID: UInt16 = ledsentryProductID) throws(LinkError) -> [USBDeviceInfo] {
        try USBDeviceHandle().list(vendorID: vendorID, productID: productID)
    }

    public func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
        guard maxCount > 0 else { throw .invalidArgument("read of \(maxCount) bytes") }
        return try reading.withLock { (buffer: inout [UInt8]?) throws(LinkError) -> [UInt8] in
            guard var received = buffer else { throw LinkError.disconnected(port: portName) }
            defer { buffer = received }
            while received.isEmpty {
                // libusb reads a timeout of 0 as "forever": a passed deadline still polls 1 ms.
                let timeout = UInt32(max(deadline.remainingMilliseconds, 1))
                let (bytes, result) = usb.bulkIn(maxCount: Self.transferSize, timeoutMilliseconds: timeout)
                received += bytes
                if !received.isEmpty { break }
                // libusb's own timer may fire a hair before our deadline: then wait on.
                if result == LibUSBStatus.timeout.rawValue, !deadline.hasPassed { continue }
                try LibUSBStatus.check(result, port: portName, operation: "read")
                if deadline.hasPassed { throw LinkError.timedOut(port: portName, operation: "read") }
            }
            let count = min(maxCount, received.count)
            defer { received.removeFirst(count) }
            return Array(received[..<count])
        }
    }

    public func write(_ bytes: [UInt8], deadline: Deadline) throws(LinkError) {
        try writing.withLock { (open: inout Bool) throws(LinkError) in
            guard open else { throw LinkError.disconnected(port: portName) }
            var sent = 0
            while sent < bytes.count {
                let remaining = deadline.remainingMilliseconds
                if remaining == 0 { throw LinkError.timedOut(port: portName, operation: "write") }
                let (moved, result) = usb.bulkOut(bytes[sent...], timeoutMilliseconds: UInt32(remaining))
                sent += moved
                if sent < bytes.count || result != 0 {
                    try LibUSBStatus.check(result, port: portName, operation: "write")
                }
            }
        }
    }

    /// Drops what was received and not read, and anything the device has already sent.
    public func discardInput() throws(LinkError) {
        try reading.withLock { (buffer: inout [UInt8]?) throws(LinkError) in
            guard buffer != nil else { throw LinkError.disconnected(port: portName) }
            buffer = []
            for _ in 0..<16 {  // bounded: a device that never stops talking is not our loop's problem
                let (bytes, result) = usb.bulkIn(maxCount: Self.transferSize, timeoutMilliseconds: 1)
                if bytes.isEmpty {
                    if result == LibUSBStatus.timeout.rawValue { return }
                    try LibUSBStatus.check(result, port: portName, operation: "discard input")
                    return
                }
            }
        }
    }

    public func close() {
        reading.withLock { buffer in
            writing.withLock { open in
                if open { usb.close() }
                open = false
                buffer = nil
            }
        }
    }

    deinit { close() }
}
