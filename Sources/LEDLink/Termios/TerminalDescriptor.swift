#if canImport(Glibc)
import Glibc
#endif

/// The one place that holds a raw terminal file descriptor and makes the system calls on
/// it. Everything above it is safe Swift. Not thread-safe on its own: its owner serialises.
struct TerminalDescriptor {
    let fd: Int32
    let port: String

    /// Opens `path` for non-blocking reads and writes without making it our controlling tty.
    static func open(path: String) throws(LinkError) -> TerminalDescriptor {
        guard !path.isEmpty else { throw .invalidArgument("empty port path") }
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .opening(path, errno: errno) }
        // Another program on the same port would interleave frames: refuse, as `busy`.
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            _ = Glibc.close(fd)
            if code == EWOULDBLOCK { throw .busy(port: path) }
            throw .io(path, operation: "lock", errno: code)
        }
        return TerminalDescriptor(fd: fd, port: path)
    }

    /// Raw 8N1, no flow control, no echo, no line editing: bytes pass unchanged.
    /// VMIN=1/VTIME=0 so a non-blocking read with nothing to read says EAGAIN and a
    /// read of 0 can only mean hang-up.
    func makeRaw(baudRate: Int) throws(LinkError) {
        guard let speed = Self.speed(for: baudRate) else {
            throw .invalidArgument("baud rate \(baudRate) is not a standard termios speed")
        }
        var attributes = termios()
        guard tcgetattr(fd, &attributes) == 0 else {
            let code = errno
            if code == ENOTTY { throw .invalidArgument("\(port) is not a terminal") }
            throw .io(port, operation: "tcgetattr", errno: code)
        }
        cfmakeraw(&attributes)
        attributes.c_cflag |= tcflag_t(CLOCAL) | tcflag_t(CREAD)
        attributes.c_cflag &= ~(tcflag_t(CSTOPB) | tcflag_t(PARENB) | tcflag_t(CRTSCTS))
        attributes.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY))
        withUnsafeMutableBytes(of: &attributes.c_cc) { controls in
            controls[Int(VMIN)] = 1
            controls[Int(VTIME)] = 0
        }
        cfsetispeed(&attributes, speed)
        cfsetospeed(&attributes, speed)
        guard tcsetattr(fd, TCSANOW, &attributes) == 0 else {
            throw .io(port, operation: "tcsetattr", errno: errno)
        }
    }

    /// Waits until `events` are possible or the deadline passes; returns what poll saw.
    /// A deadline already past still polls once, so available data is never missed.
    func wait(for events: Int16, deadline: Deadline, operation: String) throws(LinkError) -> Int16 {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let ready = poll(&entry, 1, deadline.remainingMilliseconds)
            if ready > 0 { return entry.revents }
            if ready == 0 {
                if deadline.hasPassed { throw .timedOut(port: port, operation: operation) }
                continue  // poll rounds to milliseconds; wait out the rest
            }
            let code = errno
            if code == EINTR { continue }
            throw .io(port, operation: "poll", errno: code)
        }
    }

    /// One read(2): the bytes read, or nil when none are available yet.
    func readAvailable(maxCount: Int) throws(LinkError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: maxCount)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, maxCount) }
        if count > 0 { return Array(buffer[..<count]) }
        if count == 0 { throw .disconnected(port: port) }  // VMIN=1: 0 only after hang-up
        let code = errno
        if code == EAGAIN || code == EINTR { return nil }
        throw .io(port, operation: "read", errno: code)
    }

    /// One write(2): how many bytes went, 0 when the output queue is full.
    func writeSome(_ bytes: ArraySlice<UInt8>) throws(LinkError) -> Int {
        let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if count >= 0 { return count }
        let code = errno
        if code == EAGAIN || code == EINTR { return 0 }
        throw .io(port, operation: "write", errno: code)
    }

    func discardInput() throws(LinkError) {
        guard tcflush(fd, TCIFLUSH) == 0 else { throw .io(port, operation: "tcflush", errno: errno) }
    }

    func close() {
        _ = Glibc.close(fd)
    }

    /// Standard rates as a table, not an if-chain.
    private static let speeds: [Int: speed_t] = [
        1200: speed_t(B1200), 2400: speed_t(B2400), 4800: speed_t(B4800), 9600: speed_t(B9600),
        19200: speed_t(B19200), 38400: speed_t(B38400), 57600: speed_t(B57600),
        115200: speed_t(B115200), 230400: speed_t(B230400), 460800: speed_t(B460800),
        500000: speed_t(B500000), 921600: speed_t(B921600), 1_000_000: speed_t(B1000000),
        2_000_000: speed_t(B2000000), 3_000_000: speed_t(B3000000), 4_000_000: speed_t(B4000000),
    ]

    static func speed(for baudRate: Int) -> speed_t? { speeds[baudRate] }
}
