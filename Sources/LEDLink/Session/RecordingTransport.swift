#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Wraps any transport and writes every exchange to a session file as it happens
/// (one write per line, so a crash loses at most the line in flight). The file replays
/// with `ReplayTransport` and serves as evidence of what the device said.
public final class RecordingTransport: Transport {
    public let inner: any Transport
    public let sessionPath: String
    public var portName: String { inner.portName }

    private struct Sink {
        var fd: Int32
        let started: ContinuousClock.Instant
    }
    private let sink: Mutex<Sink>

    /// Creates (or truncates) the session file at `sessionPath`.
    public init(wrapping inner: any Transport, sessionPath: String) throws(LinkError) {
        let fd = open(sessionPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            throw .system(port: sessionPath, operation: "create session file", code: code,
                          message: errnoMessage(code))
        }
        self.inner = inner
        self.sessionPath = sessionPath
        sink = Mutex(Sink(fd: fd, started: .now))
        try append([SessionRecord.header, SessionRecord.portPrefix + inner.portName,
                    SessionRecord.startedPrefix + SessionRecord.utcTimestamp()].joined(separator: "\n"))
    }

    public func write(_ bytes: [UInt8], deadline: Deadline) throws(LinkError) {
        try record(.sent(bytes))
        do {
            try inner.write(bytes, deadline: deadline)
        } catch {
            try recordFailure(error)
            throw error
        }
    }

    public func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try inner.read(maxCount: maxCount, deadline: deadline)
        } catch {
            try recordFailure(error)
            throw error
        }
        try record(.received(bytes))
        return bytes
    }

    public func discardInput() throws(LinkError) {
        try inner.discardInput()
        try record(.discarded)
    }

    public func close() {
        inner.close()
        sink.withLock { sink in
            if sink.fd >= 0 { _ = Glibc.close(sink.fd) }
            sink.fd = -1
        }
    }

    deinit { close() }

    private func recordFailure(_ error: LinkError) throws(LinkError) {
        switch error {
        case .timedOut(_, let operation): try record(.timedOut(operation: operation))
        case .disconnected: try record(.disconnected)
        default: break  // other failures are the caller's to report; the wire saw nothing
        }
    }

    private func record(_ kind: SessionRecord.Kind) throws(LinkError) {
        let started = sink.withLock { $0.started }
        let elapsed = started.duration(to: .now).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        try append(SessionRecord(seconds: seconds, kind: kind).serialize())
    }

    private func append(_ lines: String) throws(LinkError) {
        let failure: Int32? = sink.withLock { sink in
            guard sink.fd >= 0 else { return EBADF }
            var text = Array((lines + "\n").utf8)[...]
            while !text.isEmpty {
                let written = text.withUnsafeBytes { Glibc.write(sink.fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                text = text.dropFirst(written)
            }
            return nil
        }
        if let code = failure {
            throw .system(port: sessionPath, operation: "write session file", code: code,
                          message: errnoMessage(code))
        }
    }
}
