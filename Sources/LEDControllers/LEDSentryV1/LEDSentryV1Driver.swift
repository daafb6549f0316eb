import Glibc
import LEDLink

/// Tallies of what a session saw on its link: for errors, progress, benchmarks.
public struct LinkStatistics: Sendable, Equatable {
    public var requests = 0
    public var retries = 0
    public var rejectedFrames = 0
    public var staleResponses = 0
    public var events = 0
    /// BUSY answers to reads that were then asked again as new requests.
    public var busyRetries = 0
    /// Unsolicited events forgotten because the queue was full (nobody took them).
    public var droppedEvents = 0
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
    /// The longest an attempt waits; nil uses the protocol's (500 ms, 2500 ms for
    /// MODULE_TEST). With `adaptiveTimeouts` attempts usually wait far less.
    public var attemptTimeout: Duration?
    /// Time each attempt from the measured round trips (`RetransmissionTimer`), with
    /// `attemptTimeout` (or the protocol's) as the ceiling. Off: every attempt waits the ceiling.
    public var adaptiveTimeouts = true
    /// How long a read answered BUSY (a module test running) is asked again, as a new
    /// request, before the BUSY is reported. Zero reports the first BUSY.
    public var busyTimeout: Duration = .milliseconds(2500)
    public private(set) var statistics = LinkStatistics()
    /// Retries the last exchange needed (used to shrink chunks on a noisy link).
    public private(set) var lastExchangeRetries = 0
    /// EVENT frames that arrived while waiting for responses, oldest first.
    public private(set) var unsolicitedEvents: [EventRecord] = []

    private var decoder = FrameDecoder()
    private var lastRequestID: UInt16 = 0
    private var hasDiscardedStaleInput = false
    /// One round-trip estimate per command: a MODULE_TEST takes far longer than a GET_PARAM.
    private var timers: [Command: RetransmissionTimer] = [:]
    /// After a REBOOT the device is silent for up to 1000 ms (section 2): attempts before
    /// this instant wait until it has passed.
    private var quietUntil: ContinuousClock.Instant?
    private static let rebootSilence = Duration.milliseconds(1000)
    static let maximumQueuedEvents = 1024
    /// A 1038-byte frame at 9600 baud: an answer still arriving may take this much longer
    /// than its attempt, and no more (a device streaming chatter cannot hold an attempt).
    private static let longestFrameTime = Duration.milliseconds(1100)
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
    /// A read answered BUSY is asked again as a *new* request (a RETRY would get the
    /// remembered BUSY, section 2) until `busyTimeout`; other commands report BUSY at once.
    public func send<Request: ControllerRequest>(_ request: Request) throws(ControllerError) -> Request.Response {
        let summary = Self.summary(of: request)
        let busyDeadline = ContinuousClock.now + busyTimeout
        var busyAnswers = 0
        var pause = Duration.milliseconds(10)
        var response = try exchange(command: Request.command, payload: request.serialized, summary: summary)
        while response.status == Status.busy.rawValue && Request.command.isIdempotentRead {
            busyAnswers += 1
            guard ContinuousClock.now + pause < busyDeadline else { break }
            statistics.busyRetries += 1
            nap(for: pause)
            pause = min(pause * 2, .milliseconds(200))
            response = try exchange(command: Request.command, payload: request.serialized, summary: summary)
        }
        let requestLabel = "\(summary) [request id \(response.requestID)]"
        guard let status = Status(rawValue: response.status) else {
            throw .badResponse(port: portName, request: requestLabel,
                               problem: "unknown status 0x\(hex(response.status))", received: response.serialized)
        }
        guard status == .ok else {
            var detail = Self.describeRefusal(status, payload: response.payload)
            if busyAnswers > 1 {
                detail = "still busy after \(busyAnswers) requests over \(busyTimeout): a module test is running"
            }
            throw .refused(port: portName, request: requestLabel, status: status, detail: detail)
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
        let ceiling = attemptTimeout ?? command.attemptTimeout
        // REBOOT keeps the full wait: a spurious re-send could reboot a device that does not
        // remember its answers twice, and its answer comes at once anyway.
        let adaptive = adaptiveTimeouts && command != .reboot
        let timer = adaptive ? timers[command, default: RetransmissionTimer()] : RetransmissionTimer()
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

        // A negative count from a caller would trap the range: it means no re-sends.
        let resends = max(0, retries)
        // When the last attempt ended on a damaged answer (bad CRC, a header whose bytes
        // stopped): the device did answer it, so the next answer is the re-send's.
        var damagedAnswerAt: ContinuousClock.Instant?
        var silentAttempts = 0
        for attempt in 0...resends {
            if attempt > 0 {
                request.flags.insert(.retry)
                statistics.retries += 1
                lastExchangeRetries += 1
                do { try transport.discardInput() } catch { throw .link(error, request: label) }
                decoder.reset()
            }
            // Each re-send after a silent attempt waits twice as long (up to the ceiling), as
            // TCP backs off its RTO; after a damaged answer the device is known to answer in
            // time, so the wait does not grow (a lossy line is not a slow device).
            if attempt > 0 && damagedAnswerAt == nil { silentAttempts += 1 }
            var timeout = timer.timeout(attempt: silentAttempts, ceiling: ceiling)
            let start = ContinuousClock.now
            if let quietUntil, quietUntil > start { timeout = max(timeout, quietUntil - start + timeout) }
            let deadline = start + timeout
            do { try transport.write(request.serialized, deadline: deadline) } catch {
                throw .link(error, request: label)
            }
            // Karn's rule: after a silent attempt an answer may be that attempt's, so it is
            // not timed; the longer wait that worked is kept instead (TCP's backoff persists
            // until a clean sample). A damaged answer times the round trip as well as a good one.
            let timed = adaptive && (attempt == 0 || damagedAnswerAt != nil)
            let response = try awaitResponse(id: requestID, command: command, deadline: deadline,
                                             hardDeadline: start + max(timeout, ceiling) + Self.longestFrameTime,
                                             seen: &seen, damagedAnswerAt: &damagedAnswerAt, label: label)
            if timed, let answeredAt = response.map({ _ in ContinuousClock.now }) ?? damagedAnswerAt {
                timers[command, default: RetransmissionTimer()].record(answeredAt - start)
            } else if adaptive && response != nil {
                timers[command, default: RetransmissionTimer()].backOff()
            }
            if let response {
                let rebooting = command == .reboot && response.status == Status.ok.rawValue
                quietUntil = rebooting ? ContinuousClock.now + Self.rebootSilence : nil
                return response
            }
        }
        throw .noResponse(port: portName, request: label, attempts: resends + 1, observed: seen.summary)
    }

    private func nap(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var time = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&time, &remaining) == -1 && errno == EINTR { time = remaining }
    }

    /// The matching response, or nil on timeout or a bad-CRC frame (both mean: retry).
    /// An answer whose bytes are still arriving at `deadline` is waited for (a long frame
    /// on a slow line is not lost), while bytes keep coming and until `hardDeadline`.
    private func awaitResponse(id: UInt16, command: Command, deadline: Deadline, hardDeadline: Deadline,
                               seen: inout Observations, damagedAnswerAt: inout ContinuousClock.Instant?,
                               label: String) throws(ControllerError) -> Frame? {
        damagedAnswerAt = nil
        let attemptStart = ContinuousClock.now
        var lastByteAt = attemptStart
        // A gap this long inside a frame means its bytes stopped (lost), not that they are slow.
        let arrivingGap = min(deadline - attemptStart, Self.frameStallLimit)
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
                    if case .badCRC = reason {
                        damagedAnswerAt = .now
                        return nil
                    }
                }
            }
            let now = ContinuousClock.now
            let attemptDeadline = decoder.hasPartialFrame ? min(hardDeadline, max(deadline, lastByteAt + arrivingGap))
                                                          : deadline
            if now >= attemptDeadline {
                seen.timeouts += 1
                // Part of a frame came and stopped: the device answered, the line lost bytes.
                if decoder.hasPartialFrame && lastByteAt > attemptStart { damagedAnswerAt = lastByteAt }
                return nil
            }
            let stallDeadline = lastByteAt + Self.frameStallLimit
            let readDeadline = decoder.hasPartialFrame ? min(attemptDeadline, stallDeadline) : attemptDeadline
            do {
                let bytes = try transport.read(maxCount: Frame.maximumSize * 2, deadline: readDeadline)
                guard !bytes.isEmpty else {
                    // A transport that returns nothing instead of waiting (against its
                    // contract): no byte arrived, so no frame is "still arriving"; don't spin.
                    nap(for: .milliseconds(1))
                    continue
                }
                decoder.append(bytes)
                lastByteAt = .now
            } catch .timedOut {
                if decoder.hasPartialFrame && ContinuousClock.now >= stallDeadline,
                   let abandoned = decoder.abandonPartialFrame() {
                    statistics.rejectedFrames += 1
                    seen.note("incomplete frame abandoned after 100 ms: \(hexDump(abandoned, limit: 16))")
                    // A header that stalled lost bytes (the answer, most likely): retry now
                    // rather than wait out the attempt.
                    if abandoned.count >= Frame.headerSize {
                        damagedAnswerAt = lastByteAt
                        return nil
                    }
                }
            } catch {
                throw .link(error, request: label)
            }
        }
    }

    private func queueEvent(_ frame: Frame, seen: inout Observations) {
        statistics.events += 1
        do {
            let event = try EventRecord(payload: frame.payload)
            // A device that floods events must not grow the queue without bound while
            // nobody takes them: the oldest go first (the device's log keeps them).
            if unsolicitedEvents.count >= Self.maximumQueuedEvents {
                unsolicitedEvents.removeFirst()
                statistics.droppedEvents += 1
            }
            unsolicitedEvents.append(event)
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

/// The attempt timeout from measured round trips, as TCP computes its RTO (RFC 6298):
/// smoothed RTT plus four mean deviations, at least `floor`, at most the protocol's
/// per-command timeout, doubled for each re-send and kept doubled after an exchange that
/// needed it. Before the first sample: the ceiling.
struct RetransmissionTimer {
    /// Below this a busy host's scheduling, not the link, decides; a device slower than
    /// it (the protocol allows 50 ms) costs a harmless RETRY until the backoff learns it.
    static let floor = Duration.milliseconds(20)
    private(set) var smoothed: Double? // seconds
    private(set) var deviation = 0.0
    /// Doublings kept from exchanges that needed a longer wait, until the next clean sample.
    private(set) var backoff = 0

    mutating func backOff() { backoff = min(backoff + 1, 6) }

    mutating func record(_ sample: Duration) {
        backoff = 0
        let seconds = Double(sample.components.seconds) + Double(sample.components.attoseconds) / 1e18
        guard let previous = smoothed else {
            smoothed = seconds
            deviation = seconds / 2
            return
        }
        deviation = 0.75 * deviation + 0.25 * abs(previous - seconds)
        smoothed = 0.875 * previous + 0.125 * seconds
    }

    func timeout(attempt: Int, ceiling: Duration) -> Duration {
        guard let smoothed else { return ceiling }
        let base = max(Self.floor, .seconds(smoothed + 4 * deviation))
        let backedOff = base * (1 << min(attempt + backoff, 6))
        return min(ceiling, backedOff)
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
