/// RDM command classes (E1.20 table A-1).
public enum RDMCommandClass: UInt8, Sendable, Codable {
    case discovery = 0x10, discoveryResponse = 0x11
    case get = 0x20, getResponse = 0x21
    case set = 0x30, setResponse = 0x31

    /// The class a responder answers this request class with.
    public var response: RDMCommandClass? { RDMCommandClass(rawValue: rawValue | 1) }
}

/// Response types (table A-2), carried where a request has its port id.
public enum RDMResponseType: UInt8, Sendable, Codable {
    case ack = 0x00, ackTimer = 0x01, nackReason = 0x02, ackOverflow = 0x03
}

/// Why a responder refused a request (table A-17).
public struct RDMNackReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible, Codable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let unknownPID = RDMNackReason(rawValue: 0x0000)
    public static let formatError = RDMNackReason(rawValue: 0x0001)
    public static let hardwareFault = RDMNackReason(rawValue: 0x0002)
    public static let proxyReject = RDMNackReason(rawValue: 0x0003)
    public static let writeProtect = RDMNackReason(rawValue: 0x0004)
    public static let unsupportedCommandClass = RDMNackReason(rawValue: 0x0005)
    public static let dataOutOfRange = RDMNackReason(rawValue: 0x0006)
    public static let bufferFull = RDMNackReason(rawValue: 0x0007)
    public static let packetSizeUnsupported = RDMNackReason(rawValue: 0x0008)
    public static let subDeviceOutOfRange = RDMNackReason(rawValue: 0x0009)
    public static let proxyBufferFull = RDMNackReason(rawValue: 0x000A)

    private static let names: [UInt16: String] = [
        0: "unknown PID", 1: "format error", 2: "hardware fault", 3: "proxy reject",
        4: "write protect", 5: "unsupported command class", 6: "data out of range",
        7: "buffer full", 8: "packet size unsupported", 9: "sub-device out of range",
        10: "proxy buffer full",
    ]

    public var description: String {
        Self.names[rawValue] ?? "reason 0x" + hex(UInt64(rawValue), digits: 4)
    }
}

/// One RDM message, start code to checksum (E1.20 section 6.2). Requests carry a port id
/// in `portOrResponseType`; responses carry their response type there.
public struct RDMPacket: Equatable, Sendable {
    public static let startCode: UInt8 = 0xCC
    public static let subStartCode: UInt8 = 0x01
    public static let headerSize = 24
    public static let maxParameterDataLength = 231

    public var destination: RDMUID
    public var source: RDMUID
    public var transactionNumber: UInt8
    public var portOrResponseType: UInt8
    public var messageCount: UInt8
    public var subDevice: UInt16
    public var commandClass: RDMCommandClass
    public var parameter: RDMParameter
    public var parameterData: [UInt8]

    public init(destination: RDMUID, source: RDMUID, transactionNumber: UInt8,
                portOrResponseType: UInt8 = 1, messageCount: UInt8 = 0, subDevice: UInt16 = 0,
                commandClass: RDMCommandClass, parameter: RDMParameter, parameterData: [UInt8] = []) {
        self.destination = destination
        self.source = source
        self.transactionNumber = transactionNumber
        self.portOrResponseType = portOrResponseType
        self.messageCount = messageCount
        self.subDevice = subDevice
        self.commandClass = commandClass
        self.parameter = parameter
        self.parameterData = parameterData
    }

    public var responseType: RDMResponseType? { RDMResponseType(rawValue: portOrResponseType) }

    /// Why a frame could not be decoded.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case truncated(have: Int, need: Int)
        case badStartCode(UInt8, UInt8)
        case badLength(messageLength: Int, parameterDataLength: Int)
        case badChecksum(expected: UInt16, found: UInt16)
        case unknownCommandClass(UInt8)

        public var description: String {
            switch self {
            case .truncated(let have, let need): return "truncated RDM frame (\(have) of \(need) bytes)"
            case .badStartCode(let a, let b):
                return "not an RDM frame (start code \(hex(UInt64(a), digits: 2)) \(hex(UInt64(b), digits: 2)))"
            case .badLength(let m, let p): return "RDM message length \(m) does not match PDL \(p)"
            case .badChecksum(let e, let f):
                return "RDM checksum mismatch (computed \(hex(UInt64(e), digits: 4)), frame says \(hex(UInt64(f), digits: 4)))"
            case .unknownCommandClass(let c): return "unknown RDM command class 0x\(hex(UInt64(c), digits: 2))"
            }
        }
    }

    /// Decodes a frame beginning with the start code; bytes after the checksum are ignored.
    public init<Bytes: Collection<UInt8>>(parsing frame: Bytes) throws(ParseError) {
        let bytes = Array(frame)
        guard bytes.count >= 2 else { throw .truncated(have: bytes.count, need: Self.headerSize + 2) }
        guard bytes[0] == Self.startCode, bytes[1] == Self.subStartCode else {
            throw .badStartCode(bytes[0], bytes[1])
        }
        guard bytes.count >= Self.headerSize + 2 else {
            throw .truncated(have: bytes.count, need: Self.headerSize + 2)
        }
        let messageLength = Int(bytes[2]), pdl = Int(bytes[23])
        guard messageLength == Self.headerSize + pdl else {
            throw .badLength(messageLength: messageLength, parameterDataLength: pdl)
        }
        guard bytes.count >= messageLength + 2 else {
            throw .truncated(have: bytes.count, need: messageLength + 2)
        }
        let expected = rdmChecksum(bytes[..<messageLength])
        let found = UInt16(bigEndian: bytes, at: messageLength)
        guard expected == found else { throw .badChecksum(expected: expected, found: found) }
        guard let commandClass = RDMCommandClass(rawValue: bytes[20]) else {
            throw .unknownCommandClass(bytes[20])
        }
        destination = RDMUID(wire: bytes[3..<9])
        source = RDMUID(wire: bytes[9..<15])
        transactionNumber = bytes[15]
        portOrResponseType = bytes[16]
        messageCount = bytes[17]
        subDevice = UInt16(bigEndian: bytes, at: 18)
        self.commandClass = commandClass
        parameter = RDMParameter(rawValue: UInt16(bigEndian: bytes, at: 21))
        parameterData = Array(bytes[24..<messageLength])
    }

    /// Appends the frame, start code and checksum included. PDL is clipped to 231 by the
    /// callers that build requests (RDMController validates first).
    public func serialize(into bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(Self.startCode)
        bytes.append(Self.subStartCode)
        bytes.append(UInt8(Self.headerSize + parameterData.count))
        destination.write(into: &bytes)
        source.write(into: &bytes)
        bytes.append(transactionNumber)
        bytes.append(portOrResponseType)
        bytes.append(messageCount)
        bytes.appendBigEndian(subDevice)
        bytes.append(commandClass.rawValue)
        bytes.appendBigEndian(parameter.rawValue)
        bytes.append(UInt8(parameterData.count))
        bytes.append(contentsOf: parameterData)
        bytes.appendBigEndian(rdmChecksum(bytes[start...]))
    }

    public var serialized: [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes)
        return bytes
    }
}

/// The RDM checksum: the 16-bit sum of every byte from the start code on.
public func rdmChecksum<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt16 {
    bytes.reduce(UInt16(0)) { $0 &+ UInt16($1) }
}
