import LEDLink

/// What came back on the DMX line after an RDM request.
public enum RDMLineReply: Equatable, Sendable {
    /// Bytes received: an RDM frame starting 0xCC, or a raw discovery reply.
    case received([UInt8])
    /// Nothing came back (the widget's label 12), or the request was a broadcast.
    case silence
}

/// Something that puts RDM requests on a DMX line: the USB-Pro widget, or a test fake.
public protocol RDMLine: AnyObject {
    /// The UID requests are sent from.
    var controllerUID: RDMUID { get }
    /// Sends one request and returns what the line gave back; throws only when the link
    /// or the widget failed (a silent responder is `.silence`, not an error).
    func exchange(_ request: RDMPacket) throws(LightingError) -> RDMLineReply
}

/// The widget's own settings (label 3).
public struct USBProParameters: Equatable, Sendable, Codable {
    public var firmwareMajor: UInt8
    public var firmwareMinor: UInt8
    /// Break time in units of 10.67 microseconds, mark-after-break in 10.67 us, frames/s.
    public var breakTime: UInt8, markAfterBreakTime: UInt8, rate: UInt8

    public var firmware: String { "\(firmwareMajor).\(firmwareMinor)" }
    /// Enttec firmware before 2.4 cannot do RDM.
    public var supportsRDM: Bool { (firmwareMajor, firmwareMinor) >= (2, 4) }
}

/// A USB-Pro-style DMX/RDM widget over any `Transport` (serial port, PTY, replay).
/// One request at a time; every wait ends at a deadline.
public final class USBProWidget: RDMLine {
    public let transport: any Transport
    /// How long the widget may take to answer one request (the RDM line itself needs
    /// under 30 ms; USB latency and a busy host add the rest).
    public var replyTimeout: Duration
    public private(set) var controllerUID: RDMUID
    private var reader = USBProFrameReader()

    public init(transport: any Transport, replyTimeout: Duration = .milliseconds(500)) {
        self.transport = transport
        self.replyTimeout = replyTimeout
        controllerUID = RDMUID(manufacturer: 0x7FF0, device: 0)
    }

    /// Asks the widget for its serial number and makes the controller UID from it (as
    /// OLA does), checking on the way that a USB-Pro-style widget is there at all.
    @discardableResult
    public func open() throws(LightingError) -> UInt32 {
        try discard()
        let serial = try serialNumber()
        controllerUID = RDMUID(manufacturer: 0x7FF0, device: serial)
        return serial
    }

    public func serialNumber() throws(LightingError) -> UInt32 {
        let reply = try request(USBProFrame(label: USBProLabel.serialNumber), expecting: USBProLabel.serialNumber,
                                what: "the serial number request (label 10)")
        guard reply.payload.count == 4 else {
            throw .widgetSilent(port: transport.portName, request: "label 10 with 4 bytes")
        }
        return reply.payload.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
    }

    public func parameters() throws(LightingError) -> USBProParameters {
        let reply = try request(USBProFrame(label: USBProLabel.getParameters, payload: [0, 0]),
                                expecting: USBProLabel.getParameters, what: "GET_PARAMS (label 3)")
        let p = reply.payload
        guard p.count >= 5 else { throw .widgetSilent(port: transport.portName, request: "GET_PARAMS with 5 bytes") }
        return USBProParameters(firmwareMajor: p[1], firmwareMinor: p[0], breakTime: p[2],
                                markAfterBreakTime: p[3], rate: p[4])
    }

    /// Sends one DMX512 frame: `slots` are channels 1...512 (start code 0 is added).
    public func sendDMX(_ slots: [UInt8]) throws(LightingError) {
        guard slots.count <= 512 else { throw .invalidArgument("a DMX frame has at most 512 slots, not \(slots.count)") }
        try send(USBProFrame(label: USBProLabel.sendDMX, payload: [0] + slots))
    }

    public func exchange(_ request: RDMPacket) throws(LightingError) -> RDMLineReply {
        let discovery = request.commandClass == .discovery && request.parameter == .discUniqueBranch
        let label = discovery ? USBProLabel.sendRDMDiscovery : USBProLabel.sendRDM
        try send(USBProFrame(label: label, payload: request.serialized))
        let deadline = ContinuousClock.now + replyTimeout
        while true {
            let frame = try nextFrame(deadline: deadline, what: "an RDM request (label \(label))")
            switch frame.label {
            case USBProLabel.rdmTimeout:
                return .silence
            case USBProLabel.receivedDMX:
                // status byte: non-zero means the widget saw a receive error
                guard let status = frame.payload.first, status == 0 else {
                    return .received([])
                }
                return .received(Array(frame.payload.dropFirst()))
            default:
                continue // a reply to something else (or DMX input): not ours
            }
        }
    }

    // MARK: framing

    private func send(_ frame: USBProFrame) throws(LightingError) {
        do {
            try transport.write(frame.serialized, deadline: .now + replyTimeout)
        } catch {
            throw .link(error)
        }
    }

    private func request(_ frame: USBProFrame, expecting label: UInt8, what: String) throws(LightingError) -> USBProFrame {
        try send(frame)
        let deadline = ContinuousClock.now + replyTimeout
        while true {
            let reply = try nextFrame(deadline: deadline, what: what)
            if reply.label == label { return reply }
        }
    }

    private func nextFrame(deadline: Deadline, what: String) throws(LightingError) -> USBProFrame {
        while true {
            if let frame = reader.next() { return frame }
            do {
                reader.append(try transport.read(maxCount: 1024, deadline: deadline))
            } catch .timedOut {
                throw .widgetSilent(port: transport.portName, request: what)
            } catch {
                throw .link(error)
            }
        }
    }

    /// Drops anything stale (a late reply to a timed-out request) before a retry.
    func discard() throws(LightingError) {
        reader.reset()
        do { try transport.discardInput() } catch { throw .link(error) }
    }
}

extension USBProWidget: RetryableLine {
    func prepareRetry() throws(LightingError) { try discard() }
}

/// A line that can clean up after a request that went wrong.
protocol RetryableLine {
    func prepareRetry() throws(LightingError)
}
