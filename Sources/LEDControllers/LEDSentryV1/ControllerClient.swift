import Dispatch
import LEDLink

/// A typed async API for an LEDSentry v1 controller.
///
/// The blocking transport calls run on the client's own serial queue, never on Swift's
/// cooperative pool, so a slow or unplugged device cannot starve other tasks.
public actor ControllerClient {
    /// The session is only touched from `queue`, one closure at a time.
    private final class SessionBox: @unchecked Sendable {
        let session: ControllerSession
        init(_ session: ControllerSession) { self.session = session }
    }

    private let box: SessionBox
    private let queue: DispatchQueue
    public nonisolated let portName: String
    /// Learned from HELLO; caps READ_LED_STATUS chunks.
    private var maxPayload = Frame.maximumPayload
    private var hasGreeted = false
    /// The largest READ_LED_STATUS chunk to ask for (bytes of LED data); nil: as large as
    /// the device's payload allows (1014). Smaller chunks suit a link known to be noisy.
    public var chunkLimit: Int?

    public func setChunkLimit(_ limit: Int?) { chunkLimit = limit }

    public init(transport: sending any Transport, retries: Int = 3, attemptTimeout: Duration? = nil) {
        let session = ControllerSession(transport: transport, retries: retries, attemptTimeout: attemptTimeout)
        portName = session.portName
        box = SessionBox(session)
        queue = DispatchQueue(label: "ledsentry.controller \(session.portName)")
    }

    /// Runs `body` with the session on the client's queue.
    public func withSession<T: Sendable>(
        _ body: @escaping @Sendable (ControllerSession) throws(ControllerError) -> T
    ) async throws(ControllerError) -> T {
        let box = self.box
        let result: Result<T, ControllerError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(ControllerError) -> T in try body(box.session) })
            }
        }
        return try result.get()
    }

    public func send<Request: ControllerRequest>(_ request: Request) async throws(ControllerError) -> Request.Response
    where Request.Response: Sendable {
        try await withSession { session throws(ControllerError) in try session.send(request) }
    }

    // MARK: Commands

    /// Opens the session: agrees on protocol version 1 and learns the device's limits.
    @discardableResult
    public func hello() async throws(ControllerError) -> HelloResponse {
        let response = try await send(HelloRequest(minVersion: 1, maxVersion: 1))
        guard response.version == 1 else {
            throw .badResponse(port: portName, request: "HELLO", problem:
                "device chose protocol version \(response.version), this host speaks only 1",
                received: response.serialized)
        }
        maxPayload = min(Frame.maximumPayload, max(Int(response.maxPayload), 16))
        hasGreeted = true
        return response
    }

    /// The sending card's identity; a geometry outside the protocol's limits (zero-sized,
    /// more cabinets than a u16 numbers, more modules than MODULE_TEST carries) is
    /// `badResponse` naming the field, so no caller loops over a hostile wall.
    public func identify() async throws(ControllerError) -> Identity {
        let identity = try await send(IdentifyRequest())
        try checkGeometry(identity.geometry)
        return identity
    }

    private func checkGeometry(_ geometry: WallGeometry) throws(ControllerError) {
        if let problem = geometry.limitViolation {
            throw .badResponse(port: portName, request: "IDENTIFY", problem: problem, received: geometry.serialized)
        }
    }

    public func cabinetInfo(_ cabinet: UInt16) async throws(ControllerError) -> CabinetInfo {
        try await checked(send(CabinetInfoRequest(cabinet: cabinet)), "cabinet") { $0.cabinet == cabinet }
    }

    public func parameter(_ parameter: ParameterID) async throws(ControllerError) -> ParameterReading {
        try await checked(send(GetParameterRequest(parameter: parameter)), "param_id") { $0.parameter == parameter }
    }

    /// Writes a parameter; returns the value now in force.
    public func setParameter(_ parameter: ParameterID, to value: Int32) async throws(ControllerError) -> Int32 {
        let request = SetParameterRequest(parameter: parameter, value: value)
        let answer = try await withSession { session throws(ControllerError) in
            let first = try session.send(request)
            // Request ids restart at 1 in every session and a device remembers its last 8
            // answers across sessions (and reboots): a RETRY whose first attempt was lost
            // can match an earlier session's SET_PARAM with the same id and get its old
            // value back, the new one never set. Setting a value twice is harmless, so a
            // re-sent SET_PARAM whose answer differs from the request is asked once more,
            // as a new request; that answer is the device's word.
            guard first.value != value, session.lastExchangeRetries > 0 else { return first }
            return try session.send(request)
        }
        return try checked(answer, "param_id") { $0.parameter == parameter }.value
    }

    public func showPattern(_ pattern: TestPattern, argument: UInt16 = 0) async throws(ControllerError) -> PatternSelection {
        // The device answers with the argument in force (section 4.5): grid and checkerboard
        // turn 0 into their defaults 8 and 1, so only those two may differ from the request.
        try await checked(send(ShowPatternRequest(pattern: pattern, argument: argument)), "pattern") {
            $0.pattern == pattern && ($0.argument == argument || (argument == 0 && pattern.hasDefaultArgument))
        }
    }

    public func moduleTest(cabinet: UInt16) async throws(ControllerError) -> ModuleTestReport {
        try await checked(send(ModuleTestRequest(cabinet: cabinet)), "cabinet") { $0.cabinet == cabinet }
    }

    public func telemetry(cabinet: UInt16) async throws(ControllerError) -> Telemetry {
        try await checked(send(ReadTelemetryRequest(cabinet: cabinet)), "cabinet") { $0.cabinet == cabinet }
    }

    /// Stored events with `sequence >= firstSequence`, oldest first, reading in batches of 64.
    public func events(from firstSequence: UInt32 = 1) async throws(ControllerError) -> [EventRecord] {
        var events: [EventRecord] = []
        var next = firstSequence
        while true {
            let batch = try await send(ReadEventsRequest(firstSequence: next, maxCount: 64))
            let fresh = batch.events.filter { $0.sequence >= next }
            guard fresh.count == batch.events.count else {
                throw .badResponse(port: portName, request: "READ_EVENTS from \(next)",
                                   problem: "returned events older than requested", received: batch.serialized)
            }
            events += fresh
            guard batch.events.count == 64, let last = fresh.last, last.sequence < UInt32.max else { return events }
            next = last.sequence + 1
        }
    }

    /// EVENT frames that arrived unsolicited, oldest first (then forgotten).
    public func takeUnsolicitedEvents() async -> [EventRecord] {
        (try? await withSession { session in session.takeUnsolicitedEvents() }) ?? []
    }

    /// Clears the event log; returns how many events were cleared.
    @discardableResult
    public func clearEvents() async throws(ControllerError) -> Int {
        Int(try await send(ClearEventsRequest()).cleared)
    }

    /// Restarts the controller. It is silent for up to a second afterwards.
    public func reboot() async throws(ControllerError) { _ = try await send(RebootRequest()) }

    public func statistics() async -> LinkStatistics {
        (try? await withSession { session in session.statistics }) ?? LinkStatistics()
    }

    // MARK: Per-LED status

    /// The per-LED status bytes of one cabinet, read in chunks. `progress` gets (bytes read, total).
    public func readLEDStatus(
        cabinet: UInt16, expectedTotal: Int? = nil,
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws(ControllerError) -> [UInt8] {
        let largest = min(maxPayload - LEDStatusReader.chunkHeaderSize, chunkLimit ?? .max)
        return try await withSession { session throws(ControllerError) in
            var reader = LEDStatusReader(largestChunk: largest)
            return try reader.read(cabinet: cabinet, expectedTotal: expectedTotal, session: session, progress: progress)
        }
    }

    /// Reads the whole wall: IDENTIFY for the geometry, then every cabinet's LED status.
    /// A cabinet the controller reports as NOT_FOUND or HARDWARE_FAULT is recorded as
    /// unreadable instead of failing the whole read. `progress` gets (LEDs read, LEDs total).
    public func readWallStatus(
        identity: Identity? = nil, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws(ControllerError) -> LEDStatusMap {
        // The chunk size depends on the device's max_payload: greet it first if nobody has.
        if !hasGreeted {
            do {
                try await hello()
            } catch where error.status == .unknownCommand {
                hasGreeted = true // a device without HELLO: keep the protocol's 1024-byte limit
            }
        }
        let geometry: WallGeometry
        if let identity { geometry = identity.geometry } else { geometry = try await identify().geometry }
        // Also for a caller's identity: the sums below and the loop trust these limits.
        try checkGeometry(geometry)
        let perCabinet = geometry.ledsPerCabinet
        let wallTotal = perCabinet * geometry.cabinetCount
        var cabinets: [[UInt8]?] = []
        var unreadable: [Int: String] = [:]
        for cabinet in 0..<geometry.cabinetCount {
            let before = cabinet * perCabinet
            do {
                cabinets.append(try await readLEDStatus(cabinet: UInt16(cabinet), expectedTotal: perCabinet) {
                    done, _ in progress?(before + done, wallTotal)
                })
            } catch let error where error.status == .hardwareFault || error.status == .notFound {
                cabinets.append(nil)
                unreadable[cabinet] = error.description
            }
        }
        progress?(wallTotal, wallTotal)
        return LEDStatusMap(geometry: geometry, cabinets: cabinets, unreadableCabinets: unreadable)
    }

    /// Returns `response` if it answers what was asked (`field` echoed), else a clear error.
    private func checked<Response: WireMessage>(
        _ response: Response, _ field: String, _ matches: (Response) -> Bool
    ) throws(ControllerError) -> Response {
        guard matches(response) else {
            throw .badResponse(port: portName, request: "\(Response.self)",
                               problem: "\(field) does not echo the request", received: response.serialized)
        }
        return response
    }
}

/// Reads one cabinet's status in chunks, shrinking them when the link is noisy: a chunk
/// that needed retries halves the next one, a chunk that failed outright is asked again
/// (as a new request) at half the size; clean chunks let the size grow back.
struct LEDStatusReader {
    /// `u16 cabinet, u32 total, u32 offset` before the data in a response payload.
    static let chunkHeaderSize = 10
    static let smallestChunk = 16

    let largestChunk: Int
    private(set) var chunkSize: Int
    private var cleanChunks = 0

    init(largestChunk: Int) {
        self.largestChunk = max(Self.smallestChunk, largestChunk)
        chunkSize = self.largestChunk
    }

    mutating func read(cabinet: UInt16, expectedTotal: Int?, session: ControllerSession,
                       progress: (@Sendable (Int, Int) -> Void)?) throws(ControllerError) -> [UInt8] {
        var data: [UInt8] = []
        var total: Int? = expectedTotal
        while total.map({ data.count < $0 }) ?? true {
            let request = ReadLEDStatusRequest(cabinet: cabinet, offset: UInt32(data.count), maxBytes: UInt16(chunkSize))
            let chunk: LEDStatusChunk
            do {
                chunk = try session.send(request)
            } catch .noResponse(let port, let label, let attempts, let observed) {
                guard chunkSize > Self.smallestChunk else {
                    throw .noResponse(port: port, request: label, attempts: attempts, observed: observed)
                }
                shrink()
                continue
            }
            try validate(chunk, for: request, total: &total, session: session)
            data += chunk.data
            adapt(retries: session.lastExchangeRetries)
            progress?(data.count, total ?? data.count)
        }
        return data
    }

    private func validate(_ chunk: LEDStatusChunk, for request: ReadLEDStatusRequest, total: inout Int?,
                          session: ControllerSession) throws(ControllerError) {
        let problem: String? =
            if chunk.cabinet != request.cabinet { "cabinet \(chunk.cabinet) instead of \(request.cabinet)" }
            else if chunk.offset != request.offset { "offset \(chunk.offset) instead of \(request.offset)" }
            else if let known = total, Int(chunk.total) != known { "total \(chunk.total), expected \(known)" }
            else if chunk.data.count > Int(request.maxBytes) { "\(chunk.data.count) bytes, more than the \(request.maxBytes) asked" }
            else if Int(chunk.offset) + chunk.data.count > Int(chunk.total) { "data runs past the total \(chunk.total)" }
            else if chunk.data.isEmpty && chunk.offset < chunk.total { "no data before the end" }
            else if let bad = chunk.data.first(where: { $0 & 0x80 != 0 }) { "status byte 0x\(hex(bad)) has reserved bit 7 set" }
            else { nil }
        if let problem {
            throw .badResponse(port: session.portName, request: "READ_LED_STATUS \(request)",
                               problem: problem, received: chunk.serialized)
        }
        total = Int(chunk.total)
    }

    private mutating func shrink() {
        chunkSize = max(Self.smallestChunk, chunkSize / 2)
        cleanChunks = 0
    }

    private mutating func adapt(retries: Int) {
        if retries > 0 {
            shrink()
        } else {
            cleanChunks += 1
            if cleanChunks >= 4 && chunkSize < largestChunk {
                chunkSize = min(largestChunk, chunkSize * 2)
                cleanChunks = 0
            }
        }
    }
}
