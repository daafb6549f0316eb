import XCTest
@testable import LEDLighting

final class CodecTests: XCTestCase {
    /// OLA's own test vector (common/rdm/RDMCommandTest.cpp).
    let olaVector: [UInt8] = [
        0xcc, 0x01, 0x18,                   // start code, sub-start code, message length 24
        0x00, 0x03, 0x00, 0x00, 0x00, 0x04, // destination 0003:00000004
        0x00, 0x01, 0x00, 0x00, 0x00, 0x02, // source 0001:00000002
        0x00, 0x01, 0x00,                   // transaction 0, port 1, message count 0
        0x00, 0x0a,                         // sub-device 10
        0x20, 0x01, 0x28, 0x00,             // GET, PID 0x0128, PDL 0
        0x01, 0x43,                         // checksum
    ]

    func testOLAVectorSerializesExactly() {
        let packet = RDMPacket(destination: RDMUID(manufacturer: 3, device: 4),
                               source: RDMUID(manufacturer: 1, device: 2), transactionNumber: 0,
                               portOrResponseType: 1, subDevice: 10, commandClass: .get,
                               parameter: RDMParameter(rawValue: 0x0128))
        XCTAssertEqual(packet.serialized, olaVector)
        XCTAssertEqual(try RDMPacket(parsing: olaVector), packet)
    }

    func testEveryByteFlipIsRejectedOrChangesTheMeaning() throws {
        let original = try RDMPacket(parsing: olaVector)
        for index in olaVector.indices {
            var damaged = olaVector
            damaged[index] ^= 0x01
            // the checksum catches every single-bit change
            XCTAssertThrowsError(try RDMPacket(parsing: damaged), "byte \(index)") { error in
                XCTAssertNotNil(error as? RDMPacket.ParseError)
            }
        }
        XCTAssertEqual(original.subDevice, 10)
    }

    func testTruncatedFramesNameTheProblem() {
        for length in 0..<olaVector.count {
            XCTAssertThrowsError(try RDMPacket(parsing: olaVector.prefix(length)))
        }
        var badLength = olaVector
        badLength[2] = 0x19
        XCTAssertThrowsError(try RDMPacket(parsing: badLength)) { error in
            XCTAssertEqual(error as? RDMPacket.ParseError, .badLength(messageLength: 25, parameterDataLength: 0))
        }
        var badChecksum = olaVector
        badChecksum[25] = 0x44
        XCTAssertThrowsError(try RDMPacket(parsing: badChecksum)) { error in
            XCTAssertEqual(error as? RDMPacket.ParseError, .badChecksum(expected: 0x0143, found: 0x0144))
        }
    }

    func testPacketWithDataRoundTrips() throws {
        let packet = RDMPacket(destination: RDMUID(manufacturer: 0x7FF0, device: 0xDEADBEEF),
                               source: RDMUID(manufacturer: 0x7FF0, device: 1), transactionNumber: 200,
                               portOrResponseType: RDMResponseType.ackOverflow.rawValue, messageCount: 3,
                               commandClass: .getResponse, parameter: .sensorValue,
                               parameterData: Array(0..<231))
        let bytes = packet.serialized
        XCTAssertEqual(bytes.count, 24 + 231 + 2)
        XCTAssertEqual(try RDMPacket(parsing: bytes + [0x55, 0xAA]), packet) // trailing bytes ignored
    }

    func testDiscoveryResponseEncodingAndCollision() throws {
        let uid = RDMUID(manufacturer: 0x7FF0, device: 0x12345678)
        let encoded = DiscoveryResponse.encode(uid)
        // 7 x FE, AA, then 7F|AA=FF 7F|55=7F F0|AA=FA F0|55=F5 ...
        XCTAssertEqual(Array(encoded.prefix(12)), [0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xAA, 0xFF, 0x7F, 0xFA, 0xF5])
        XCTAssertEqual(encoded.count, 24)
        XCTAssertEqual(try DiscoveryResponse.decode(encoded), uid)
        XCTAssertEqual(try DiscoveryResponse.decode(Array(encoded.dropFirst(7))), uid) // no preamble
        let other = DiscoveryResponse.encode(RDMUID(manufacturer: 0x7FF0, device: 0x12345679))
        let collided = zip(encoded, other).map { $0 | $1 }
        XCTAssertThrowsError(try DiscoveryResponse.decode(collided)) { error in
            XCTAssertEqual(error as? DiscoveryResponse.DecodeError, .collision)
        }
        XCTAssertThrowsError(try DiscoveryResponse.decode(Array(encoded.prefix(20))))
        XCTAssertThrowsError(try DiscoveryResponse.decode([]))
    }

    func testUIDTextAndOrder() {
        let uid = RDMUID(string: "7ff0:0000002a")
        XCTAssertEqual(uid, RDMUID(manufacturer: 0x7FF0, device: 42))
        XCTAssertEqual(uid?.description, "7FF0:0000002A")
        XCTAssertNil(RDMUID(string: "7ff0-0000002a"))
        XCTAssertNil(RDMUID(string: "7ff0:2a"))
        XCTAssertNil(RDMUID(string: "zzzz:00000000"))
        XCTAssertTrue(RDMUID.allDevices.isBroadcast)
        XCTAssertTrue(RDMUID.allDevices(of: 0x7FF0).isBroadcast)
        XCTAssertLessThan(RDMUID(manufacturer: 1, device: 0xFFFF_FFFF), RDMUID(manufacturer: 2, device: 0))
        XCTAssertEqual(RDMUID(rawValue: 0x7FF0_0000_002A), uid)
    }

    func testParameterNames() {
        XCTAssertEqual(RDMParameter(name: "DEVICE_INFO"), .deviceInfo)
        XCTAssertEqual(RDMParameter(name: "sensor_value"), .sensorValue)
        XCTAssertEqual(RDMParameter(name: "0x1020"), .performSelfTest)
        XCTAssertEqual(RDMParameter(name: "96"), .deviceInfo)
        XCTAssertNil(RDMParameter(name: "warp_drive"))
        XCTAssertEqual(RDMParameter.deviceInfo.description, "DEVICE_INFO (0x0060)")
    }

    func testWidgetFramesAndResynchronisation() {
        let frame = USBProFrame(label: 10, payload: [1, 2, 3, 4])
        XCTAssertEqual(frame.serialized, [0x7E, 0x0A, 0x04, 0x00, 1, 2, 3, 4, 0xE7])
        var reader = USBProFrameReader()
        // noise, a frame with a bad end byte, then a good frame split in two
        reader.append([0x00, 0x13, 0x7E, 0x05, 0x01, 0x00, 0x42, 0x00])
        XCTAssertNil(reader.next())
        reader.append(Array(frame.serialized.prefix(3)))
        XCTAssertNil(reader.next())
        reader.append(Array(frame.serialized.dropFirst(3)))
        XCTAssertEqual(reader.next(), frame)
        XCTAssertNil(reader.next())
        XCTAssertGreaterThan(reader.skippedBytes, 0)
        // an impossible length is skipped, and an empty frame decodes
        reader.append([0x7E, 0x05, 0xFF, 0xFF, 0x7E, 0x0C, 0x00, 0x00, 0xE7])
        XCTAssertEqual(reader.next(), USBProFrame(label: 12))
    }

    func testParameterDataShapes() throws {
        let info = try DeviceInfo(parsing: [0x01, 0x00, 0x04, 0x01, 0x05, 0x09, 0, 1, 2, 0, 0, 4, 1, 3, 0, 1, 0, 0, 3])
        XCTAssertEqual(info.modelID, 0x0401)
        XCTAssertEqual(info.sensorCount, 3)
        XCTAssertThrowsError(try DeviceInfo(parsing: [0x01]))
        let definition = try SensorDefinition(parsing: [1, 0x05, 0x05, 0x03, 0, 0, 0x13, 0x88, 0, 100, 0x0B, 0xB8, 2]
                                                       + Array("Output current".utf8))
        XCTAssertEqual(definition.unitSymbol, "mA")
        XCTAssertEqual(definition.scaled(1400), 1.4, accuracy: 1e-9)
        XCTAssertEqual(definition.description, "Output current")
        let messages = try StatusMessage.list(parsing: [0, 0, 4, 0x00, 0x21, 0, 0, 0, 97])
        XCTAssertEqual(messages.first?.text, "sensor 0 over temperature at 97 °C")
        XCTAssertThrowsError(try StatusMessage.list(parsing: [0, 0, 4]))
    }

    /// Random input never crashes a decoder, and what decodes re-encodes to the same bytes.
    func testRandomBytesNeverCrashTheDecoders() {
        var random = SplitMix(seed: 99)
        var decoded = 0
        for _ in 0..<20_000 {
            let count = Int(random.next() % 64)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if random.next() % 2 == 0, !bytes.isEmpty { bytes[0] = 0xCC; if bytes.count > 1 { bytes[1] = 0x01 } }
            if let packet = try? RDMPacket(parsing: bytes) {
                decoded += 1
                XCTAssertEqual(packet.serialized, Array(bytes.prefix(packet.serialized.count)))
            }
            _ = try? DiscoveryResponse.decode(bytes)
            var reader = USBProFrameReader()
            reader.append(bytes)
            while let frame = reader.next() { XCTAssertLessThanOrEqual(frame.payload.count, USBProFrame.maxPayload) }
        }
        _ = decoded
    }

    /// A line that answers every request with noise: a clear error after the retries.
    func testGarbageRepliesEndInAnError() {
        final class NoisyLine: RDMLine {
            let controllerUID = RDMUID(manufacturer: 0x7FF0, device: 1)
            var random = SplitMix(seed: 5)
            var requests = 0
            func exchange(_ request: RDMPacket) throws(LightingError) -> RDMLineReply {
                requests += 1
                return .received((0..<40).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            }
        }
        let line = NoisyLine()
        let uid = RDMUID(manufacturer: 0x7FF0, device: 2)
        XCTAssertThrowsError(try RDMController(line: line, retries: 3).get(uid, .deviceInfo)) { error in
            guard case .badReply(uid, .deviceInfo, _)? = error as? LightingError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(line.requests, 4)
        let report = try? RDMDiscovery(controller: RDMController(line: line)).run()
        XCTAssertNotNil(report, "noise on every branch is collisions, not a crash")
        XCTAssertEqual(report?.uids, [])
    }

    /// The widget vectors of Docs/lighting.md section 5, decoded by our codec.
    func testDocumentedWidgetVectors() throws {
        func bytes(_ text: String) -> [UInt8] { text.split(separator: " ").map { UInt8($0, radix: 16)! } }
        var reader = USBProFrameReader()
        // <- serial number 0x20260001, little-endian
        reader.append(bytes("7e 0a 04 00 01 00 26 20 e7"))
        XCTAssertEqual(reader.next(), USBProFrame(label: 10, payload: [0x01, 0x00, 0x26, 0x20]))
        // -> DISC_UN_MUTE to all, TN 0, from 7FF0:00000001: our serializer gives the same bytes
        let controller = RDMUID(manufacturer: 0x7FF0, device: 1)
        let unmute = RDMPacket(destination: .allDevices, source: controller, transactionNumber: 0,
                               commandClass: .discovery, parameter: .discUnMute)
        XCTAssertEqual(USBProFrame(label: 7, payload: unmute.serialized).serialized,
                       bytes("7e 07 1a 00 cc 01 18 ff ff ff ff ff ff 7f f0 00 00 00 01 00 01 00 00 00 10 00 03 00 08 63 e7"))
        // <- the discovery reply: status 00, then 7 x FE, AA, the encoded UID and checksum
        reader.append(bytes("7e 05 19 00 00 fe fe fe fe fe fe fe aa ff 7f fa f5 ae 7d ee 55 ae d7 ff d5 ab 5d be 75 e7"))
        let dub = try XCTUnwrap(reader.next())
        XCTAssertEqual(dub.label, 5)
        XCTAssertEqual(try DiscoveryResponse.decode(Array(dub.payload.dropFirst())), RDMUID(string: "7FF0:2C4486D5"))
        // <- DEVICE_INFO ACK (TN 3)
        reader.append(bytes("""
            7e 05 2e 00 00 cc 01 2b 7f f0 00 00 00 01 7f f0 2c 44 86 d5 03 00 00 00 00 21 00 60 13 \
            01 00 04 01 05 09 00 01 02 00 00 04 01 03 00 01 00 00 03 06 5c e7
            """))
        let reply = try RDMPacket(parsing: XCTUnwrap(reader.next()).payload.dropFirst())
        XCTAssertEqual(reply.responseType, .ack)
        XCTAssertEqual(reply.transactionNumber, 3)
        let info = try DeviceInfo(parsing: reply.parameterData)
        XCTAssertEqual([info.modelID, info.productCategory, info.footprint, info.startAddress], [0x0401, 0x0509, 4, 1])
        XCTAssertEqual(info.softwareVersion, 0x0001_0200)
        XCTAssertEqual(info.sensorCount, 3)
        // <- NACK FORMAT_ERROR for DMX_START_ADDRESS (TN 4)
        reader.append(bytes("7e 05 1d 00 00 cc 01 1a 7f f0 00 00 00 01 7f f0 2c 44 86 d5 04 02 00 00 00 21 00 f0 02 00 01 06 ab e7"))
        let nack = try RDMPacket(parsing: XCTUnwrap(reader.next()).payload.dropFirst())
        XCTAssertEqual(nack.responseType, .nackReason)
        XCTAssertEqual(RDMNackReason(rawValue: UInt16(bigEndian: nack.parameterData, at: 0)), .formatError)
    }

    func testDMXFrameFromAssignments() throws {
        var frame = DMXFrame(count: 0)
        try frame.apply("1=255")
        try frame.apply("3-5=64")
        XCTAssertEqual(frame.slots, [255, 0, 64, 64, 64])
        var full = DMXFrame(all: 10)
        try full.apply("512=1")
        XCTAssertEqual(full.slots.count, 512)
        XCTAssertEqual(full.slots.last, 1)
        for bad in ["0=1", "513=1", "1=256", "5-3=1", "x=1", "1", "1=", "-1=3"] {
            XCTAssertThrowsError(try frame.apply(bad), bad)
        }
        // on the wire: label 6, start code 0, then the slots
        XCTAssertEqual(USBProFrame(label: USBProLabel.sendDMX, payload: [0] + frame.slots).serialized,
                       [0x7E, 0x06, 0x06, 0x00, 0x00, 255, 0, 64, 64, 64, 0xE7])
    }
}
