#if canImport(Glibc)
import Glibc
#endif

/// A finished RDM request: the data of the final ACK (reassembled across ACK_OVERFLOW,
/// fetched through QUEUED_MESSAGE after ACK_TIMER), kept apart from how it got here.
public struct RDMResponse: Equatable, Sendable {
    public var uid: RDMUID
    public var parameter: RDMParameter
    public var data: [UInt8]
    /// The responder's message count on its last reply (queued messages waiting).
    public var messageCount: UInt8
    /// How many ACK_OVERFLOW pieces were joined (1: the reply fitted in one frame).
    public var pieces: Int
    /// True when the responder answered ACK_TIMER and the data came from QUEUED_MESSAGE.
    public var wasQueued: Bool
    /// Requests that had to be sent again (no reply, damaged reply).
    public var retries: Int
}

/// GET and SET over an `RDMLine` per E1.20: transaction numbers, retries of lost or
/// damaged replies, ACK_TIMER (poll QUEUED_MESSAGE after the delay), ACK_OVERFLOW
/// (repeat the request and join the pieces), NACK reasons as errors.
public final class RDMController {
    public let line: any RDMLine
    /// Sends after the first for a request that got no reply or a damaged one.
    public var retries: Int
    /// The longest an ACK_TIMER wait may last in total.
    public var queuedMessageLimit: Duration = .seconds(5)
    private var transactionNumber: UInt8 = 0

    public init(line: any RDMLine, retries: Int = 2) {
        self.line = line
        self.retries = retries
    }

    public func get(_ uid: RDMUID, _ parameter: RDMParameter, data: [UInt8] = [],
                    subDevice: UInt16 = 0) throws(LightingError) -> RDMResponse {
        guard !uid.isBroadcast else { throw .invalidArgument("GET cannot be broadcast (\(uid))") }
        return try request(uid, .get, parameter, data, subDevice)
    }

    /// A SET. To a broadcast UID nothing answers: the result then has no data.
    @discardableResult
    public func set(_ uid: RDMUID, _ parameter: RDMParameter, data: [UInt8] = [],
                    subDevice: UInt16 = 0) throws(LightingError) -> RDMResponse {
        if uid.isBroadcast {
            _ = try line.exchange(packet(to: uid, .set, parameter, data, subDevice))
            return RDMResponse(uid: uid, parameter: parameter, data: [], messageCount: 0, pieces: 0,
                               wasQueued: false, retries: 0)
        }
        return try request(uid, .set, parameter, data, subDevice)
    }

    func packet(to uid: RDMUID, _ commandClass: RDMCommandClass, _ parameter: RDMParameter,
                _ data: [UInt8], _ subDevice: UInt16) -> RDMPacket {
        defer { transactionNumber &+= 1 }
        return RDMPacket(destination: uid, source: line.controllerUID, transactionNumber: transactionNumber,
                         portOrResponseType: 1, subDevice: subDevice, commandClass: commandClass,
                         parameter: parameter, parameterData: data)
    }

    private func request(_ uid: RDMUID, _ commandClass: RDMCommandClass, _ parameter: RDMParameter,
                         _ data: [UInt8], _ subDevice: UInt16) throws(LightingError) -> RDMResponse {
        guard data.count <= RDMPacket.maxParameterDataLength else {
            throw .invalidArgument("parameter data of \(data.count) bytes (at most 231)")
        }
        var collected: [UInt8] = []
        var pieces = 0, retriesUsed = 0
        var queued = false
        var current = (commandClass: commandClass, parameter: parameter, data: data)
        while true {
            var (reply, used) = try transact(uid, current.commandClass, current.parameter, current.data,
                                             subDevice, answering: parameter)
            retriesUsed += used
            if reply.responseType == .ackTimer {
                guard !queued else { throw .badReply(uid: uid, parameter: parameter, detail: "ACK_TIMER for a queued message") }
                (reply, used) = try awaitQueued(uid, after: reply, answering: parameter, subDevice: subDevice)
                retriesUsed += used
                queued = true
                current = (.get, .queuedMessage, [RDMStatusType.advisory.rawValue])
            }
            switch reply.responseType {
            case .ack?, .ackOverflow?:
                collected += reply.parameterData
                pieces += 1
                if reply.responseType == .ack {
                    return RDMResponse(uid: uid, parameter: parameter, data: collected,
                                       messageCount: reply.messageCount, pieces: pieces,
                                       wasQueued: queued, retries: retriesUsed)
                }
                guard pieces < 64, collected.count < 64 * 1024 else {
                    throw .badReply(uid: uid, parameter: parameter, detail: "ACK_OVERFLOW never ended")
                }
            case .nackReason?:
                guard reply.parameterData.count == 2 else {
                    throw .badReply(uid: uid, parameter: parameter, detail: "NACK without a 2-byte reason")
                }
                throw .nacked(uid: uid, parameter: parameter,
                              reason: RDMNackReason(rawValue: UInt16(bigEndian: reply.parameterData, at: 0)))
            case .ackTimer?:
                throw .badReply(uid: uid, parameter: parameter, detail: "ACK_TIMER inside ACK_OVERFLOW")
            case nil:
                throw .badReply(uid: uid, parameter: parameter, detail: "unknown response type \(reply.portOrResponseType)")
            }
        }
    }

    /// Sends one request until a well-formed reply that belongs to it arrives.
    private func transact(_ uid: RDMUID, _ commandClass: RDMCommandClass, _ parameter: RDMParameter,
                          _ data: [UInt8], _ subDevice: UInt16,
                          answering original: RDMParameter) throws(LightingError) -> (RDMPacket, Int) {
        var lastProblem: String?
        for attempt in 0...retries {
            if attempt > 0, let retryable = line as? any RetryableLine { try retryable.prepareRetry() }
            let request = packet(to: uid, commandClass, parameter, data, subDevice)
            let reply: RDMLineReply
            do {
                reply = try line.exchange(request)
            } catch .widgetSilent(let port, let what) {
                lastProblem = "\(port): the widget did not answer \(what)"
                continue
            }
            guard case .received(let bytes) = reply else { continue }
            do {
                let packet = try RDMPacket(parsing: bytes)
                if let problem = mismatch(packet, request, original: original) {
                    lastProblem = problem
                    continue
                }
                return (packet, attempt)
            } catch {
                lastProblem = bytes.isEmpty ? "the widget reported a receive error" : error.description
            }
        }
        if let lastProblem { throw .badReply(uid: uid, parameter: original, detail: lastProblem) }
        throw .noResponse(uid: uid, parameter: original)
    }

    private func mismatch(_ reply: RDMPacket, _ request: RDMPacket, original: RDMParameter) -> String? {
        if reply.source != request.destination { return "reply from \(reply.source)" }
        if reply.destination != request.source { return "reply addressed to \(reply.destination)" }
        if reply.transactionNumber != request.transactionNumber {
            return "transaction \(reply.transactionNumber), expected \(request.transactionNumber)"
        }
        if reply.commandClass != request.commandClass.response { return "command class \(reply.commandClass)" }
        if request.parameter == .queuedMessage { return nil } // answers with the queued PID
        if reply.parameter != request.parameter { return "answered \(reply.parameter)" }
        return nil
    }

    /// After ACK_TIMER: wait the estimate, then poll QUEUED_MESSAGE until the reply for
    /// `original` arrives (other queued messages are skipped) or the limit passes.
    private func awaitQueued(_ uid: RDMUID, after timer: RDMPacket, answering original: RDMParameter,
                             subDevice: UInt16) throws(LightingError) -> (RDMPacket, Int) {
        guard timer.parameterData.count == 2 else {
            throw .badReply(uid: uid, parameter: original, detail: "ACK_TIMER without a 2-byte delay")
        }
        let estimate = Duration.milliseconds(100 * Int(UInt16(bigEndian: timer.parameterData, at: 0)))
        let limit = ContinuousClock.now + queuedMessageLimit
        sleep(for: estimate)
        var retriesUsed = 0
        while true {
            let (reply, used) = try transact(uid, .get, .queuedMessage, [RDMStatusType.advisory.rawValue],
                                             subDevice, answering: original)
            retriesUsed += used
            if reply.parameter == original { return (reply, retriesUsed) }
            if ContinuousClock.now >= limit {
                throw .noResponse(uid: uid, parameter: original)
            }
            // STATUS_MESSAGES means "nothing queued yet": poll again shortly
            if reply.parameter == .statusMessages { sleep(for: .milliseconds(50)) }
        }
    }
}

func sleep(for duration: Duration) {
    let (seconds, attoseconds) = duration.components
    guard seconds > 0 || attoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
