import Foundation
import LEDControllers
import LEDLink

/// A small in-memory controller that speaks protocol v1 the way the document says: the
/// parameters table, chunked LED status, an event log and the 8-entry retry cache. Tests
/// use it (through `FakeLink` and its misbehaving subclasses) before touching a real port.
final class FakeController {
    var identity = Identity(model: "LS-FAKE", serial: "FAKE-0001", firmware: "1.0.0", hardwareRevision: "A",
                            geometry: WallGeometry(cabinetColumns: 2, cabinetRows: 1, modulesX: 2, modulesY: 2,
                                                   moduleWidth: 8, moduleHeight: 4))
    var parameters: [UInt8: (value: Int32, min: Int32, max: Int32)] = [1: (80, 0, 100), 3: (3840, 60, 7680)]
    var ledStatus: [[UInt8]]
    var events: [EventRecord] = []
    /// How often each command ran (a RETRY answered from the cache does not count).
    private(set) var executions: [Command: Int] = [:]
    private var cache: [(id: UInt16, command: UInt8, response: Frame)] = []

    init() {
        ledStatus = Array(repeating: Array(repeating: 0, count: 16 * 8), count: 2)
    }

    /// Puts an answer in the retry memory, as an earlier session's request would have.
    func remember(_ response: Frame) {
        cache.append((response.requestID, response.command, response))
    }

    func handle(_ request: Frame) -> Frame {
        if request.flags.contains(.retry),
           let cached = cache.first(where: { $0.id == request.requestID && $0.command == request.command }) {
            return cached.response
        }
        let (status, payload) = execute(request)
        let response = Frame(flags: .response, requestID: request.requestID, command: request.command,
                             status: status.rawValue, payload: payload)
        cache.append((request.requestID, request.command, response))
        if cache.count > 8 { cache.removeFirst() }
        return response
    }

    private func execute(_ request: Frame) -> (Status, [UInt8]) {
        guard let command = Command(rawValue: request.command) else { return (.unknownCommand, []) }
        executions[command, default: 0] += 1
        do {
            switch command {
            case .hello:
                _ = try HelloRequest(payload: request.payload)
                return (.ok, HelloResponse(version: 1, maxPayload: 1024, capabilities: [.eventFrames, .ledStatus]).serialized)
            case .identify:
                return (.ok, identity.serialized)
            case .getParameter:
                let id = try GetParameterRequest(payload: request.payload).parameter
                guard let entry = parameters[id.rawValue] else { return (.unknownParameter, []) }
                return (.ok, ParameterReading(parameter: id, value: entry.value, minimum: entry.min, maximum: entry.max).serialized)
            case .setParameter:
                let setting = try SetParameterRequest(payload: request.payload).setting
                guard let entry = parameters[setting.parameter.rawValue] else { return (.unknownParameter, []) }
                guard (entry.min...entry.max).contains(setting.value) else {
                    return (.outOfRange, OutOfRangeDetail(parameter: setting.parameter, minimum: entry.min, maximum: entry.max).serialized)
                }
                parameters[setting.parameter.rawValue]!.value = setting.value
                return (.ok, setting.serialized)
            case .readLEDStatus:
                let ask = try ReadLEDStatusRequest(payload: request.payload)
                guard Int(ask.cabinet) < ledStatus.count else { return (.notFound, []) }
                let bytes = ledStatus[Int(ask.cabinet)]
                guard ask.maxBytes > 0, Int(ask.offset) <= bytes.count else { return (.badArgument, []) }
                let end = min(bytes.count, Int(ask.offset) + Int(ask.maxBytes), Int(ask.offset) + 1014)
                return (.ok, LEDStatusChunk(cabinet: ask.cabinet, total: UInt32(bytes.count), offset: ask.offset,
                                            data: Array(bytes[Int(ask.offset)..<end])).serialized)
            case .readEvents:
                let ask = try ReadEventsRequest(payload: request.payload)
                let wanted = events.filter { $0.sequence >= ask.firstSequence }.prefix(Int(ask.maxCount))
                return (.ok, EventLog(stored: UInt16(events.count), events: Array(wanted)).serialized)
            case .clearEvents:
                defer { events.removeAll() }
                return (.ok, ClearEventsResponse(cleared: UInt16(events.count)).serialized)
            case .reboot:
                return (.ok, [])
            default:
                return (.unknownCommand, [])
            }
        } catch {
            return (.badLength, [])
        }
    }
}

/// The device end of an in-memory link: decodes the host's request frames, lets the
/// `FakeController` answer, and queues the answer for the host to read. Subclasses
/// misbehave in one named way each by overriding `deliver`.
class FakeLink: Transport, @unchecked Sendable { // inspected by tests only after the client is done
    let device: FakeController
    let portName = "fake-port"
    /// Every request frame the device received, in order.
    private(set) var requests: [Frame] = []
    private var decoder = FrameDecoder()
    private var pending: [UInt8] = []
    var isUnplugged = false

    init(device: FakeController = FakeController()) { self.device = device }

    /// What goes back on the wire for request number `index` (0-based); default: the answer.
    func deliver(_ response: Frame, index: Int) -> [UInt8] { response.serialized }

    func write(_ bytes: [UInt8], deadline: Deadline) throws(LinkError) {
        guard !isUnplugged else { throw .disconnected(port: portName) }
        decoder.append(bytes)
        while let output = decoder.next() {
            guard case .frame(let request) = output else { continue }
            requests.append(request)
            pending += deliver(device.handle(request), index: requests.count - 1)
        }
    }

    func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
        guard !isUnplugged else { throw .disconnected(port: portName) }
        guard !pending.isEmpty else {
            sleep(until: deadline)
            throw .timedOut(port: portName, operation: "read")
        }
        let count = min(maxCount, pending.count)
        defer { pending.removeFirst(count) }
        return Array(pending.prefix(count))
    }

    func discardInput() throws(LinkError) { pending.removeAll() }
    func close() { isUnplugged = true }
}

/// Blocks the calling thread until `instant` (a fake link's read waiting for its deadline).
func sleep(until instant: ContinuousClock.Instant) {
    let wait = instant - .now
    guard wait > .zero else { return }
    Thread.sleep(forTimeInterval: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18)
}

/// Loses the answers to the requests whose numbers are in `dropping`.
final class DroppingLink: FakeLink, @unchecked Sendable {
    let dropping: Set<Int>
    init(dropping: Set<Int>, device: FakeController = FakeController()) {
        self.dropping = dropping
        super.init(device: device)
    }
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        dropping.contains(index) ? [] : response.serialized
    }
}

/// Flips one payload bit in the answers to the requests whose numbers are in `corrupting`.
final class CorruptingLink: FakeLink, @unchecked Sendable {
    let corrupting: Set<Int>
    init(corrupting: Set<Int>, device: FakeController = FakeController()) {
        self.corrupting = corrupting
        super.init(device: device)
    }
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        var bytes = response.serialized
        if corrupting.contains(index) { bytes[bytes.count / 2] ^= 0x10 }
        return bytes
    }
}

/// Loses every answer longer than `limit` bytes on the wire, like a link whose error rate
/// makes long frames hopeless.
final class LongFrameLosingLink: FakeLink, @unchecked Sendable {
    let limit: Int
    init(limit: Int, device: FakeController = FakeController()) {
        self.limit = limit
        super.init(device: device)
    }
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        let bytes = response.serialized
        return bytes.count > limit ? [] : bytes
    }
}

/// Surrounds every answer with noise: line garbage, a stale answer to an older request,
/// an unsolicited EVENT frame and a frame with a bad CRC that is not the answer.
final class ChattyLink: FakeLink, @unchecked Sendable {
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        var stale = response
        stale.requestID &-= 1
        stale.payload = [0xEE]
        let event = Frame(flags: [.response, .event], requestID: 0, command: Command.event.rawValue,
                          payload: EventRecord(sequence: UInt32(index + 1), uptimeSeconds: 10, type: .fanStall,
                                               cabinet: 1, value: 0).serialized)
        var wrongCommand = response
        wrongCommand.command = 0x7F
        return [0x00, 0xA5, 0x13, 0x5A] + stale.serialized + event.serialized + wrongCommand.serialized
            + response.serialized
    }
}

/// Answers with the right frame shape but another cabinet's data: wrong data, good CRC.
final class LyingLink: FakeLink, @unchecked Sendable {
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        var lie = response
        if lie.command == Command.readLEDStatus.rawValue, lie.payload.count >= 10 {
            lie.payload[6] &+= 1 // the offset's low byte
        }
        return lie.serialized
    }
}

/// Never answers.
final class SilentLink: FakeLink, @unchecked Sendable {
    override func deliver(_ response: Frame, index: Int) -> [UInt8] { [] }
}

/// A controller that predates HELLO: answers it UNKNOWN_COMMAND, everything else normally.
final class HelloLessLink: FakeLink, @unchecked Sendable {
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        guard response.command == Command.hello.rawValue else { return response.serialized }
        return Frame(flags: .response, requestID: response.requestID, command: response.command,
                     status: Status.unknownCommand.rawValue).serialized
    }
}

/// Reports a wall in IDENTIFY that breaks the protocol's limits (inconsistent or hostile).
final class HostileIdentityLink: FakeLink, @unchecked Sendable {
    init(geometry: WallGeometry) {
        let device = FakeController()
        device.identity.geometry = geometry
        super.init(device: device)
    }
}

/// Answers BUSY to its first `busyAnswers` requests, as a device running a module test
/// (the command still reaches the fake, so only reads should be sent to it).
final class BusyForAWhileLink: FakeLink, @unchecked Sendable {
    let busyAnswers: Int
    init(busyAnswers: Int) {
        self.busyAnswers = busyAnswers
        super.init()
    }
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        guard index < busyAnswers else { return response.serialized }
        return Frame(flags: .response, requestID: response.requestID, command: response.command,
                     status: Status.busy.rawValue).serialized
    }
}

/// Sends an unsolicited EVENT frame of a type protocol v1 does not define (a newer
/// firmware's) before every answer.
final class NewEventTypeLink: FakeLink, @unchecked Sendable {
    static let newType: UInt8 = 200
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        let record = EventRecord(sequence: UInt32(100 + index), uptimeSeconds: 7, type: .unknown(Self.newType),
                                 cabinet: 0, value: 42)
        return Frame(flags: [.response, .event], requestID: 0, command: Command.event.rawValue,
                     payload: record.serialized).serialized + response.serialized
    }
}

/// Sets the reserved byte of the first record in READ_EVENTS answers and of every EVENT
/// frame it sends: a malformed record, not a new type.
final class ReservedByteEventLink: FakeLink, @unchecked Sendable {
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        var answer = response
        if answer.command == Command.readEvents.rawValue, answer.payload.count >= 3 + 14 {
            answer.payload[3 + 9] = 1 // u16 stored, u8 count, then the record's reserved byte at 9
        }
        return answer.serialized
    }
}

/// Answers each request after `delay(request number)`: a device (or line) that turns slow.
final class SlowingLink: FakeLink, @unchecked Sendable {
    let delay: @Sendable (Int) -> Duration
    private var due = ContinuousClock.now
    init(delay: @escaping @Sendable (Int) -> Duration) {
        self.delay = delay
        super.init()
    }
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        due = .now + delay(index)
        return response.serialized
    }
    override func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
        sleep(until: min(due, deadline))
        guard ContinuousClock.now >= due else { throw .timedOut(port: portName, operation: "read") }
        return try super.read(maxCount: maxCount, deadline: deadline)
    }
}

/// Delivers answers `piece` bytes at a time, one piece every `gap`: a slow line on which
/// an answer is still arriving when its attempt would end.
final class TricklingLink: FakeLink, @unchecked Sendable {
    let piece: Int
    let gap: Duration
    private var nextPieceAt = ContinuousClock.now
    init(piece: Int, gap: Duration) {
        self.piece = piece
        self.gap = gap
        super.init()
    }
    override func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
        sleep(until: min(nextPieceAt, deadline))
        guard ContinuousClock.now >= nextPieceAt else { throw .timedOut(port: portName, operation: "read") }
        let bytes = try super.read(maxCount: min(maxCount, piece), deadline: deadline)
        nextPieceAt = .now + gap
        return bytes
    }
}

/// Sends only the first 12 bytes of each answer, and returns empty reads instead of
/// waiting for its deadline (a transport that breaks the `read` contract).
final class EmptyReadingLink: FakeLink, @unchecked Sendable {
    override func deliver(_ response: Frame, index: Int) -> [UInt8] { Array(response.serialized.prefix(12)) }
    override func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
        do { return try super.read(maxCount: maxCount, deadline: .now) } catch .timedOut { return [] }
    }
}

/// Sends `count` unsolicited EVENT frames (sequences 1...count) before its first answer.
final class EventFloodingLink: FakeLink, @unchecked Sendable {
    let count: Int
    init(count: Int) {
        self.count = count
        super.init()
    }
    override func deliver(_ response: Frame, index: Int) -> [UInt8] {
        guard index == 0 else { return response.serialized }
        return (1...count).flatMap { sequence in
            Frame(flags: [.response, .event], requestID: 0, command: Command.event.rawValue,
                  payload: EventRecord(sequence: UInt32(sequence), uptimeSeconds: 1, type: .linkError,
                                       cabinet: EventRecord.sendingCard, value: 1).serialized).serialized
        } + response.serialized
    }
}

/// Loses the first request frame on the line (the device never sees it), so the host's
/// RETRY is the first the device hears of it.
final class FirstRequestLosingLink: FakeLink, @unchecked Sendable {
    private var hasLost = false
    override func write(_ bytes: [UInt8], deadline: Deadline) throws(LinkError) {
        guard hasLost else {
            hasLost = true
            return
        }
        try super.write(bytes, deadline: deadline)
    }
}
