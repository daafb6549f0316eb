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
}
