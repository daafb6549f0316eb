import CLibSerialPort
import Synchronization

/// A serial port driven by libserialport: native UARTs and USB-serial adapters
/// (FTDI, CP210x, CDC-ACM). Opened 8N1, no flow control, 115200 baud unless told.
/// Pseudo-terminals need `TermiosTransport`; `openPort(_:)` picks the right one.
///
/// An unplugged adapter ends the call in progress with `.disconnected`: libserialport's
/// blocking read then returns 0 bytes at every timeout while ioctls fail with EIO, so
/// waits are cut into short slices and the port is probed between them.
public final class SerialTransport: Transport, Sendable {
    public let portName: String
    /// What libserialport knows about the port (for USB adapters: VID:PID, serial, ...).
    public let info: PortInfo
    private let handle: Mutex<SerialPortHandle?>

    /// Longest single wait inside libserialport; bounds how late an unplug is noticed.
    static let probeInterval: Int32 = 50

    /// Opens a port libserialport knows (it has /sys/class/tty/NAME).
    public init(path: String, baudRate: Int = 115_200) throws(LinkError) {
        let port = try SerialPortHandle.lookUp(path)
        do {
            try port.open(baudRate: baudRate)
        } catch {
            sp_free_port(port.port)
            throw error
        }
        portName = path
        info = portInfo(port.port)
        handle = Mutex(port)
    }

    private func current() throws(LinkError) -> SerialPortHandle {
        guard let open = handle.withLock({ $0 }) else { throw .disconnected(port: portName) }
        return open
    }

    public func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
        guard maxCount > 0 else { throw .invalidArgument("read of \(maxCount) bytes") }
        let port = try current()
        while true {
            let remaining = deadline.remainingMilliseconds
            let bytes = remaining > 0
                ? try port.readNext(maxCount: maxCount, timeoutMilliseconds: min(remaining, Self.probeInterval))
                : try port.readAvailable(maxCount: maxCount)
            if !bytes.isEmpty { return bytes }
            _ = try port.inputWaiting()  // throws .disconnected after a hang-up
            if remaining == 0 { throw .timedOut(port: portName, operation: "read") }
        }
    }

    public func write(_ bytes: [UInt8], deadline: Deadline) throws(LinkError) {
        let port = try current()
        var sent = 0
        while sent < bytes.count {
            let remaining = deadline.remainingMilliseconds
            sent += try port.write(bytes[sent...], timeoutMilliseconds: min(remaining, Self.probeInterval))
            if sent == bytes.count { return }
            _ = try port.inputWaiting()
            if remaining == 0 { throw .timedOut(port: portName, operation: "write") }
        }
    }

    public func discardInput() throws(LinkError) {
        try current().discardInput()
    }

    public func close() {
        handle.withLock { open in
            open?.close()
            open = nil
        }
    }

    deinit { close() }
}
