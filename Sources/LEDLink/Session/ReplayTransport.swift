#if canImport(Glibc)
import Glibc
#endif

/// Plays a recorded session back as a transport, so a driver runs unchanged against what a
/// real device once said. Each request is keyed by the exact bytes the host wrote (its
/// canonical form: the same request id, flags and payload); the device's answers recorded
/// after it are returned by later reads. The same request may occur several times; its
/// answers are handed out in recorded order. A request the session never saw is an error
/// naming its bytes. Recorded timeouts and discards apply until the next request; unread
/// bytes stay queued, and after a recorded disconnect everything says `.disconnected`.
/// Replay is instant: recorded times are kept for evidence, not paced.
public final class ReplayTransport: Transport {
    public let portName: String

    /// What the device did after one request, in order.
    enum Answer: Equatable {
        case bytes([UInt8])
        case timedOut(operation: String)
        case discarded
        case disconnected
    }

    private struct Exchange {
        var request: [UInt8]
        var answers: [Answer]
    }

    /// Unplayed exchanges, by request bytes, each queue in recorded order.
    private var exchanges: [[UInt8]: [[Answer]]] = [:]
    private var requestPrefixes: Set<[UInt8]> = []
    /// Answers of the requests already matched, not yet read.
    private var pending: [Answer] = []
    /// Bytes written since the last complete request (a request may come in pieces).
    private var written: [UInt8] = []
    private var closed = false

    /// Loads a session file written by `RecordingTransport`.
    public convenience init(sessionPath: String) throws(LinkError) {
        let text = try Self.readFile(sessionPath)
        try self.init(sessionText: text, name: sessionPath)
    }

    /// Parses session text; `name` is used in messages.
    public init(sessionText: String, name: String) throws(LinkError) {
        var recordedPort = "?"
        var leading: [Answer] = []
        var current: Exchange?
        var all: [Exchange] = []
        for (index, line) in sessionText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix(SessionRecord.portPrefix) {
                recordedPort = String(line.dropFirst(SessionRecord.portPrefix.count))
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            let record: SessionRecord
            do {
                record = try SessionRecord(parsing: line)
            } catch {
                throw .invalidArgument("\(name) line \(index + 1): \(error.message)")
            }
            let answer: Answer
            switch record.kind {
            case .sent(let bytes):
                // Consecutive writes form one request; a write after answers starts the next.
                if var open = current, open.answers.isEmpty {
                    open.request += bytes
                    current = open
                } else {
                    if let done = current { all.append(done) }
                    current = Exchange(request: bytes, answers: [])
                }
                continue
            case .received(let bytes): answer = .bytes(bytes)
            case .timedOut(let operation): answer = .timedOut(operation: operation)
            case .discarded: answer = .discarded
            case .disconnected: answer = .disconnected
            }
            if current == nil { leading.append(answer) } else { current!.answers.append(answer) }
        }
        if let done = current { all.append(done) }
        portName = "replay of \(recordedPort) from \(name)"
        pending = leading
        for exchange in all {
            exchanges[exchange.request, default: []].append(exchange.answers)
            for end in 1..<exchange.request.count { requestPrefixes.insert(Array(exchange.request[..<end])) }
        }
    }

    public func write(_ bytes: [UInt8], deadline: Deadline) throws(LinkError) {
        guard !closed, !pending.contains(.disconnected) else { throw .disconnected(port: portName) }
        // Recorded silences and discards were observations before this request; only
        // bytes the host never read stay queued, as in a real receive buffer.
        pending.removeAll { answer in
            if case .bytes = answer { return false }
            return true
        }
        written += bytes
        if var queue = exchanges[written], !queue.isEmpty {
            pending += queue.removeFirst()
            exchanges[written] = queue
            written = []
        } else if !requestPrefixes.contains(written) || exchanges[written] != nil {
            let unexpected = written
            written = []
            throw .unsupported("\(portName): the recorded session has no (more) answers to the "
                + "request \(hexString(unexpected))")
        }
    }

    public func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
        guard maxCount > 0 else { throw .invalidArgument("read of \(maxCount) bytes") }
        guard !closed else { throw .disconnected(port: portName) }
        guard let next = pending.first else {
            // Nothing was recorded here: the device was silent, so the wait times out.
            throw .timedOut(port: portName, operation: "read")
        }
        switch next {
        case .bytes(let bytes):
            if bytes.count <= maxCount {
                pending.removeFirst()
                return bytes
            }
            pending[0] = .bytes(Array(bytes[maxCount...]))
            return Array(bytes[..<maxCount])
        case .timedOut(let operation):
            pending.removeFirst()
            throw .timedOut(port: portName, operation: operation)
        case .discarded:
            // The recorded host discarded here but this one reads on: nothing more came.
            throw .timedOut(port: portName, operation: "read")
        case .disconnected:
            throw .disconnected(port: portName)
        }
    }

    /// Drops answers up to the recorded discard, as the device's kernel buffer would.
    public func discardInput() throws(LinkError) {
        guard !closed else { throw .disconnected(port: portName) }
        if let mark = pending.firstIndex(of: .discarded) {
            pending.removeSubrange(...mark)
        }
    }

    public func close() { closed = true }

    private static func readFile(_ path: String) throws(LinkError) -> String {
        guard let file = fopen(path, "r") else {
            let code = errno
            if code == ENOENT { throw .notFound(port: path) }
            throw .system(port: path, operation: "open session file", code: code, message: errnoMessage(code))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes += chunk[..<count]
            if count < chunk.count { break }
        }
        if ferror(file) != 0 {
            throw .system(port: path, operation: "read session file", code: EIO, message: errnoMessage(EIO))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
