import CLibSerialPort
#if canImport(Glibc)
import Glibc
#endif

/// The one place that holds a libserialport `sp_port` and calls into the C library.
/// Every result is checked here and turned into a `LinkError` naming the port.
/// Not thread-safe on its own: its owner serialises.
struct SerialPortHandle {
    let port: OpaquePointer
    let name: String

    /// Looks a port up by path. Fails for ports libserialport does not know
    /// (no /sys/class/tty/NAME: pseudo-terminals, socat ports).
    static func lookUp(_ path: String) throws(LinkError) -> SerialPortHandle {
        var found: OpaquePointer?
        try check(sp_get_port_by_name(path, &found), port: path, operation: "look up")
        guard let found else { throw .notFound(port: path) }
        return SerialPortHandle(port: found, name: path)
    }

    /// Opens read-write and sets `baudRate` 8N1 without flow control.
    func open(baudRate: Int) throws(LinkError) {
        guard baudRate > 0, baudRate <= Int(Int32.max) else {
            throw .invalidArgument("baud rate \(baudRate)")
        }
        try Self.check(sp_open(port, SP_MODE_READ_WRITE), port: name, operation: "open", opening: true)
        do {
            try Self.check(sp_set_baudrate(port, Int32(baudRate)), port: name, operation: "set baud rate")
            try Self.check(sp_set_bits(port, 8), port: name, operation: "set data bits")
            try Self.check(sp_set_parity(port, SP_PARITY_NONE), port: name, operation: "set parity")
            try Self.check(sp_set_stopbits(port, 1), port: name, operation: "set stop bits")
            try Self.check(sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE), port: name, operation: "set flow control")
            try lockExclusively()
        } catch {
            sp_close(port)
            throw error
        }
    }

    /// Another program on the same port would interleave frames: refuse, as `busy`.
    private func lockExclusively() throws(LinkError) {
        var fd: Int32 = -1
        try Self.check(sp_get_port_handle(port, &fd), port: name, operation: "get handle")
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EWOULDBLOCK { throw .busy(port: name) }
            throw .io(name, operation: "lock", errno: code)
        }
    }

    /// Up to `maxCount` bytes, returning as soon as any arrive or after `timeoutMilliseconds`
    /// (which must be > 0: libserialport reads 0 as "wait forever"). Empty on timeout.
    func readNext(maxCount: Int, timeoutMilliseconds: Int32) throws(LinkError) -> [UInt8] {
        precondition(timeoutMilliseconds > 0)
        var buffer = [UInt8](repeating: 0, count: maxCount)
        let result = buffer.withUnsafeMutableBytes {
            sp_blocking_read_next(port, $0.baseAddress, maxCount, UInt32(timeoutMilliseconds))
        }
        let count = try Self.check(result, port: name, operation: "read")
        return Array(buffer[..<Int(count)])
    }

    /// What is already there, without waiting.
    func readAvailable(maxCount: Int) throws(LinkError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maxCount)
        let result = buffer.withUnsafeMutableBytes { sp_nonblocking_read(port, $0.baseAddress, maxCount) }
        let count = try Self.check(result, port: name, operation: "read")
        return Array(buffer[..<Int(count)])
    }

    /// Writes as much as fits before the timeout (0: only what fits now); returns the count.
    func write(_ bytes: ArraySlice<UInt8>, timeoutMilliseconds: Int32) throws(LinkError) -> Int {
        let result = bytes.withUnsafeBytes { raw in
            timeoutMilliseconds > 0
                ? sp_blocking_write(port, raw.baseAddress, raw.count, UInt32(timeoutMilliseconds))
                : sp_nonblocking_write(port, raw.baseAddress, raw.count)
        }
        // 0.1.1's non-blocking write reports a full output queue as a failure (EAGAIN).
        if result == SP_ERR_FAIL, sp_last_error_code() == EAGAIN { return 0 }
        return Int(try Self.check(result, port: name, operation: "write"))
    }

    /// Bytes received and not read. After a hang-up the ioctl fails with EIO, which is how
    /// an unplug is told apart from silence: `sp_blocking_read` then just returns 0.
    func inputWaiting() throws(LinkError) -> Int {
        Int(try Self.check(sp_input_waiting(port), port: name, operation: "check input"))
    }

    func discardInput() throws(LinkError) {
        try Self.check(sp_flush(port, SP_BUF_INPUT), port: name, operation: "discard input")
    }

    func close() {
        sp_close(port)
        sp_free_port(port)
    }

    /// libserialport's result: a count (>= 0) or one of its four errors. SP_ERR_FAIL
    /// carries the OS errno, which decides between not found, busy, unplugged and so on.
    @discardableResult
    static func check(_ result: sp_return, port: String, operation: String,
                      opening: Bool = false) throws(LinkError) -> Int32 {
        let value = result.rawValue
        if value >= 0 { return value }
        switch result {
        case SP_ERR_ARG: throw .invalidArgument("\(port): \(operation): libserialport rejected the arguments")
        case SP_ERR_MEM: throw .system(port: port, operation: operation, code: ENOMEM, message: errnoMessage(ENOMEM))
        case SP_ERR_SUPP: throw .unsupported("\(port): \(operation) is not supported by this port")
        default:
            let code = sp_last_error_code()
            throw opening ? .opening(port, errno: code) : .io(port, operation: operation, errno: code)
        }
    }
}
