import LEDLink

/// Tallies of what a session saw on its link: for errors, progress, benchmarks.
public struct LinkStatistics: Sendable, Equatable {
    public var requests = 0
    public var retries = 0
    public var rejectedFrames = 0
    public var staleResponses = 0
    public var events = 0
}

/// The protocol engine: sends one request at a time over a blocking `Transport`, with
/// request ids, the 100 ms frame-stall rule and idempotent retries (protocol section 2).
///
/// Synchronous on purpose: every call blocks its thread until done or its deadline, so
/// the same engine serves the async `ControllerClient` (on its own queue), benchmarks and
/// the fuzzer. Use one session from one thread at a time.
public final class ControllerSession {
    public let transport: any Transport
    /// Re-sends after the first attempt (the protocol recommends 3).
    public var retries: Int
    /// Per-attempt timeout; nil uses the protocol's (500 ms, 2500 ms for MODULE_TEST).
    public var attemptTimeout: Duration?
    public private(set) var statistics = LinkStatistics()
    /// Retries the last exchange needed (used to shrink chunks on a noisy link).
    public private(set) var lastExchangeRetries = 0
    /// EVENT frames that arrived while waiting for responses, oldest first.
    public private(set) var unsolicitedEvents: [EventRecord] = []

    private var decoder = FrameDecoder()
    private var lastRequestID: UInt16 = 0
    private var hasDiscardedStaleInput = false
    /// A frame whose bytes stop arriving for longer than this is abandoned (section 1).
    private static let frameStallLimit = Duration.milliseconds(100)

    public init(transport: any Transport, retries: Int = 3, attemptTimeout: Duration? = nil) {
        self.transport = transport
        self.retries = retries
        self.attemptTimeout = attemptTimeout
    }

    public var portName: String { transport.portName }

    /// Hands over the queued EVENT frames and forgets them.
    public func takeUnsolicitedEvents() -> [EventRecord] {
        defer { unsolicitedEvents.removeAll() }
        return unsolicitedEvents
    }

    /// Sends `request` and returns its parsed OK response.
    public func send<Request: ControllerRequest>(_ request: Request) throws(ControllerError) -> Request.Response {
        let summary = Self.summary(of: request)
        let response = try exchange(command: Request.command, payload: request.serialized, summary: summary)
        let requestLabel = "\(summary) [request id \(response.requestID)]"
        guard let status = Status(rawValue: response.status) else {
            throw .badResponse(port: portName, request: requestLabel,
                               problem: "unknown status 0x\(hex(response.status))", received: response.serialized)
        }
        guard status == .ok else {
            throw .refused(port: portName, request: requestLabel, status: status,
                           detail: Self.describeRefusal(status, payload: response.payload))
        }
        guard response.version == Frame.currentVersion else {
            throw .badResponse(port: portName, request: requestLabel,
                               problem: "frame version \(response.version), expected 1", received: response.serialized)
        }
        do {
            return try Request.Response(payload: response.payload)
        } catch {
            throw .badResponse(port: portName, request: requestLabel,
                               problem: error.description, received: response.serialized)
        }
    }

    /// Sends one request frame and waits for the matching response frame, re-sending the
    /// same frame with RETRY on timeout or bad CRC. Never returns a frame whose id or
    /// command differ from the request.
    public func exchange(command: Command, payload: [UInt8], summary: String) throws(ControllerError) -> Frame {
        let requestID = nextRequestID()
        let timeout = attemptTimeout ?? command.attemptTimeout
        let label = "\(summary) [request id \(requestID)]"
        var request = Frame(requestID: requestID, command: command.rawValue, payload: payload)
        var seen = Observations()
        statistics.requests += 1
        lastExchangeRetries = 0
        if !hasDiscardedStaleInput {
            // Section 2: input waiting at open (e.g. events an emulator's PTY held while no
            // client was connected) belongs to no request of ours.
            do { try transport.discardInput() } catch { throw .link(error, request: label) }
            hasDiscardedStaleInput = true
        }

        for attempt in 0...retries {
            if attempt > 0 {
                request.flags.insert(.retry)
                statistics.retries += 1
                lastExchangeRetries += 1
                do { try transport.discardInput() } catch { throw .link(error, request: label) }
                decoder.reset()
            }
            let deadline = ContinuousClock.now + timeout
            do { try transport.write(request.serialized, deadline: deadline) } catch {
                throw .link(error, request: label)
            }
            if let response = try awaitResponse(id: requestID, command: command, deadline: deadline,
                                                seen: &seen, label: label) {
                return response
            }
        }
        throw .noResponse(port: portName, request: label, attempts: retries + 1, observed: seen.summary)
    }

    /// The matching response, or nil on timeout or a bad-CRC frame (both mean: retry).
    private func awaitResponse(id: UInt16, command: Command, deadline: Deadline,
                               seen: inout Observations, label: String) throws(ControllerError) -> Frame? {
        var lastByteAt = ContinuousClock.now
        while true {
            while let output = decoder.next() {
                switch output {
                case .frame(let frame):
                    if frame.flags.contains(.event) {
                        queueEvent(frame, seen: &seen)
                    } else if frame.flags.contains(.response) && frame.requestID == id
                                && frame.command == command.rawValue {
                        return frame
                    } else {
                        statistics.staleResponses += 1
                        seen.note("a frame for request id \(frame.requestID) command 0x\(hex(frame.command))")
                    }
                case .rejected(let reason, let discarded):
                    statistics.rejectedFrames += 1
                    seen.note("rejected frame: \(reason): \(hexDump(discarded, limit: 16))")
                    if case .badCRC = reason { return nil }
                }
            }
            let now = ContinuousClock.now
            if now >= deadline {
                seen.timeouts += 1
                return nil
            }
            let stallDeadline = lastByteAt + Self.frameStallLimit
            let readDeadline = decoder.hasPartialFrame ? min(deadline, stallDeadline) : deadline
            do {
                let bytes = try transport.read(maxCount: Frame.maximumSize * 2, deadline: readDeadline)
                decoder.append(bytes)
                lastByteAt = .now
            } catch .timedOut {
                if decoder.hasPartialFrame && ContinuousClock.now >= stallDeadline,
                   let abandoned = decoder.abandonPartialFrame() {
                    statistics.rejectedFrames += 1
                    seen.note("incomplete frame abandoned after 100 ms: \(hexDump(abandoned, limit: 16))")
                    // A header that stalled lost bytes (the answer, most likely): retry now
                    // rather than wait out the attempt.
                    if abandoned.count >= Frame.headerSize { return nil }
                }
            } catch {
                throw .link(error, request: label)
            }
        }
    }

    private func queueEvent(_ frame: Frame, seen: inout Observations) {
        statistics.events += 1
        do {
            unsolicitedEvents.append(try EventRecord(payload: frame.payload))
        } catch {
            seen.note("malformed EVENT frame (\(error)): \(hexDump(frame.payload, limit: 16))")
        }
    }

    private func nextRequestID() -> UInt16 {
        // Counts from 1, wraps from 0xFFFF to 1; 0 belongs to events.
        lastRequestID = lastRequestID == 0xFFFF ? 1 : lastRequestID + 1
        return lastRequestID
    }

    /// A request in words for messages: `SET_PARAM (parameter brightness, value 500)`.
    static func summary<Request: ControllerRequest>(of request: Request) -> String {
        func fields(_ value: Any) -> [String] {
            Mirror(reflecting: value).children.flatMap { child -> [String] in
                child.value is any WireMessage ? fields(child.value) : ["\(child.label ?? "field") \(child.value)"]
            }
        }
        let list = fields(request)
        return "\(Request.command)" + (list.isEmpty ? "" : " (\(list.joined(separator: ", ")))")
    }

    /// Words for an error response's payload (section 3).
    static func describeRefusal(_ status: Status, payload: [UInt8]) -> String {
        switch status {
        case .outOfRange:
            guard let detail = try? OutOfRangeDetail(payload: payload) else { break }
            return "\(detail.parameter) must be within \(detail.minimum)...\(detail.maximum)"
        case .unsupportedVersion:
            guard let range = try? VersionRange(payload: payload) else { break }
            return "device speaks protocol versions \(range.minVersion)...\(range.maxVersion), this host speaks 1"
        default:
            if payload.isEmpty { return "" }
        }
        return "payload \(hexDump(payload))"
    }
}

/// What arrived instead of a valid response, kept short for an error message.
private struct Observations {
    var timeouts = 0
    var notes: [String] = []
    var noteCount = 0

    mutating func note(_ text: String) {
        noteCount += 1
        if notes.count < 3 { notes.append(text) }
    }

    var summary: String {
        var parts: [String] = []
        if timeouts > 0 { parts.append("\(timeouts) attempt(s) timed out") }
        if noteCount > 0 {
            parts.append("saw " + notes.joined(separator: "; ")
                         + (noteCount > notes.count ? "; and \(noteCount - notes.count) more" : ""))
        }
        return parts.isEmpty ? "nothing came back" : parts.joined(separator: "; ")
    }
}
