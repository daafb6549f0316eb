#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A serial link over plain POSIX termios: pseudo-terminals (the emulator), socat-made
/// ports, and any tty libserialport cannot open. Raw 8N1, no flow control.
///
/// Hang-up (the other end closed, the adapter unplugged) surfaces as `.disconnected`
/// from POLLHUP, EIO or a zero-length read; never as a hang.
public final class TermiosTransport: Transport, Sendable {
    public let portName: String
    /// A termios port has no bus metadata: always `.virtual` (PTY, socat) as far as we know.
    public let info: PortInfo
    /// nil once closed.
    private let descriptor: Mutex<TerminalDescriptor?>

    /// Opens and configures `path`. Throws `.notFound`, `.permissionDenied`, `.busy`,
    /// `.invalidArgument` (not a terminal, odd baud rate) or `.system`.
    public init(path: String, baudRate: Int = 115_200) throws(LinkError) {
        let opened = try TerminalDescriptor.open(path: path)
        do {
            try opened.makeRaw(baudRate: baudRate)
        } catch {
            opened.close()
            throw error
        }
        portName = path
        info = PortInfo(path: path, summary: "terminal (termios)", transport: .virtual)
        descriptor = Mutex(opened)
    }

    private func current() throws(LinkError) -> TerminalDescriptor {
        guard let open = descriptor.withLock({ $0 }) else { throw .disconnected(port: portName) }
        return open
    }

    public func write(_ bytes: [UInt8], deadline: Deadline) throws(LinkError) {
        let terminal = try current()
        var sent = 0
        while sent < bytes.count {
            let written = try terminal.writeSome(bytes[sent...])
            sent += written
            if sent == bytes.count { break }
            if written == 0 {
                let events = try terminal.wait(for: Int16(POLLOUT), deadline: deadline, operation: "write")
                if events & Int16(POLLHUP | POLLERR | POLLNVAL) != 0, events & Int16(POLLOUT) == 0 {
                    throw .disconnected(port: portName)
                }
            }
        }
    }

    public func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
        guard maxCount > 0 else { throw .invalidArgument("read of \(maxCount) bytes") }
        let terminal = try current()
        while true {
            let events = try terminal.wait(for: Int16(POLLIN), deadline: deadline, operation: "read")
            if events & Int16(POLLNVAL) != 0 { throw .disconnected(port: portName) }
            // After a hang-up read says EIO (PTY) or 0 (tty hung up); Linux flushes the
            // input of a PTY whose master closed, so nothing buffered is lost by reading first.
            if let bytes = try terminal.readAvailable(maxCount: maxCount) { return bytes }
            if events & Int16(POLLHUP) != 0 { throw .disconnected(port: portName) }
            if deadline.hasPassed { throw .timedOut(port: portName, operation: "read") }
        }
    }

    public func discardInput() throws(LinkError) {
        try current().discardInput()
    }

    public func close() {
        descriptor.withLock { open in
            open?.close()
            open = nil
        }
    }

    deinit { close() }
}
