import XCTest
@testable import LEDControllers

/// Golden frames: bytes written out by hand from Docs/controller-protocol.md, CRCs computed
/// independently (Python's zlib.crc32), one comment per field.
enum Golden {
    static let helloRequest: [UInt8] = [
        0xA5, 0x5A,             // start of frame
        0x01,                   // version 1
        0x00,                   // flags: request
        0x01, 0x00,             // request id 1
        0x01,                   // command HELLO
        0x00,                   // status 0 in requests
        0x02, 0x00,             // length 2
        0x01,                   // min_version 1
        0x01,                   // max_version 1
        0x2F, 0x19, 0xAB, 0xCF, // CRC-32 0xCFAB192F, little-endian
    ]
    static let helloResponse: [UInt8] = [
        0xA5, 0x5A,             // start of frame
        0x01,                   // version 1
        0x01,                   // flags: RESPONSE
        0x01, 0x00,             // request id 1 (echoed)
        0x01,                   // command HELLO
        0x00,                   // status OK
        0x07, 0x00,             // length 7
        0x01,                   // version 1 chosen
        0x00, 0x04,             // max_payload 1024
        0x07, 0x00, 0x00, 0x00, // capabilities: events, LED status, telemetry
        0x38, 0xC7, 0x7E, 0x45, // CRC-32
    ]
    static let getBrightnessRequest: [UInt8] = [
        0xA5, 0x5A, 0x01, 0x00, // SOF, version 1, flags 0
        0x02, 0x00,             // request id 2
        0x04,                   // command GET_PARAM
        0x00,                   // status 0
        0x01, 0x00,             // length 1
        0x01,                   // param_id 1 brightness
        0xA5, 0xED, 0xA8, 0xE5, // CRC-32
    ]
    static let getBrightnessResponse: [UInt8] = [
        0xA5, 0x5A, 0x01, 0x01, // SOF, version 1, flags RESPONSE
        0x02, 0x00,             // request id 2
        0x04,                   // command GET_PARAM
        0x00,                   // status OK
        0x0D, 0x00,             // length 13
        0x01,                   // param_id 1 brightness
        0x50, 0x00, 0x00, 0x00, // value 80
        0x00, 0x00, 0x00, 0x00, // min 0
        0x64, 0x00, 0x00, 0x00, // max 100
        0xBC, 0xCD, 0xA2, 0x15, // CRC-32
    ]
    static let setRefreshRateRetry: [UInt8] = [
        0xA5, 0x5A, 0x01,       // SOF, version 1
        0x04,                   // flags RETRY
        0x03, 0x00,             // request id 3
        0x05,                   // command SET_PARAM
        0x00,                   // status 0
        0x05, 0x00,             // length 5
        0x03,                   // param_id 3 refresh_rate
        0x80, 0x07, 0x00, 0x00, // value 1920
        0xFF, 0x72, 0x1F, 0xFF, // CRC-32
    ]
    static let outOfRangeResponse: [UInt8] = [
        0xA5, 0x5A, 0x01, 0x01, // SOF, version 1, flags RESPONSE
        0x03, 0x00,             // request id 3
        0x05,                   // command SET_PARAM
        0x03,                   // status OUT_OF_RANGE
        0x09, 0x00,             // length 9
        0x01,                   // param_id 1
        0x00, 0x00, 0x00, 0x00, // min 0
        0x64, 0x00, 0x00, 0x00, // max 100
        0x67, 0xEA, 0x9F, 0x43, // CRC-32
    ]
    static let readLEDStatusRequest: [UInt8] = [
        0xA5, 0x5A, 0x01, 0x00, // SOF, version 1, flags 0
        0x34, 0x12,             // request id 0x1234
        0x08,                   // command READ_LED_STATUS
        0x00,                   // status 0
        0x08, 0x00,             // length 8
        0x03, 0x00,             // cabinet 3
        0x00, 0x04, 0x00, 0x00, // offset 1024
        0x00, 0x02,             // max_bytes 512
        0xFF, 0xF4, 0x28, 0xA4, // CRC-32
    ]
    static let identifyResponse: [UInt8] = [
        0xA5, 0x5A, 0x01, 0x01, // SOF, version 1, flags RESPONSE
        0x05, 0x00,             // request id 5
        0x02,                   // command IDENTIFY
        0x00,                   // status OK
        0x1E, 0x00,             // length 30
        0x05, 0x4C, 0x53, 0x2D, 0x53, 0x31, // model "LS-S1"
        0x05, 0x53, 0x43, 0x30, 0x30, 0x31, // serial "SC001"
        0x05, 0x31, 0x2E, 0x30, 0x2E, 0x30, // firmware "1.0.0"
        0x01, 0x41,             // hardware_revision "A"
        0x02, 0x00,             // cabinet_columns 2
        0x01, 0x00,             // cabinet_rows 1
        0x02,                   // modules_x 2
        0x02,                   // modules_y 2
        0x40, 0x00,             // module_width 64
        0x20, 0x00,             // module_height 32
        0x04, 0x46, 0x9E, 0x20, // CRC-32
    ]
    static let overTemperatureEvent: [UInt8] = [
        0xA5, 0x5A, 0x01,       // SOF, version 1
        0x03,                   // flags RESPONSE | EVENT
        0x00, 0x00,             // request id 0 (events)
        0x80,                   // command EVENT
        0x00,                   // status 0
        0x0E, 0x00,             // length 14 (the record's fields add up to 14; section 4.9 says 12)
        0x07, 0x00, 0x00, 0x00, // sequence 7
        0x10, 0x0E, 0x00, 0x00, // uptime 3600 s
        0x01,                   // type over-temperature
        0x00,                   // reserved
        0x02, 0x00,             // cabinet 2
        0x55, 0x03,             // value 853 deci-degrees C
        0xD6, 0x54, 0xC7, 0xFF, // CRC-32
    ]
}

final class FrameCodecTests: XCTestCase {
    func testCRCCheckValueIsTheISOHDLCOne() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
    }

    func testRequestsSerializeToGoldenBytes() {
        XCTAssertEqual(Frame(requestID: 1, command: Command.hello.rawValue,
                             payload: HelloRequest().serialized).serialized, Golden.helloRequest)
        XCTAssertEqual(Frame(requestID: 2, command: Command.getParameter.rawValue,
                             payload: GetParameterRequest(parameter: .brightness).serialized).serialized,
                       Golden.getBrightnessRequest)
        XCTAssertEqual(Frame(flags: .retry, requestID: 3, command: Command.setParameter.rawValue,
                             payload: SetParameterRequest(parameter: .refreshRate, value: 1920).serialized).serialized,
                       Golden.setRefreshRateRetry)
        XCTAssertEqual(Frame(requestID: 0x1234, command: Command.readLEDStatus.rawValue,
                             payload: ReadLEDStatusRequest(cabinet: 3, offset: 1024, maxBytes: 512).serialized).serialized,
                       Golden.readLEDStatusRequest)
    }

    func testResponsesParseFromGoldenBytes() throws {
        let hello = try Frame(parsing: Golden.helloResponse)
        XCTAssertEqual(hello.flags, .response)
        XCTAssertEqual(hello.requestID, 1)
        XCTAssertEqual(try HelloResponse(payload: hello.payload),
                       HelloResponse(version: 1, maxPayload: 1024, capabilities: [.eventFrames, .ledStatus, .telemetry]))

        let reading = try ParameterReading(payload: Frame(parsing: Golden.getBrightnessResponse).payload)
        XCTAssertEqual(reading, ParameterReading(parameter: .brightness, value: 80, minimum: 0, maximum: 100))

        let refusal = try Frame(parsing: Golden.outOfRangeResponse)
        XCTAssertEqual(Status(rawValue: refusal.status), .outOfRange)
        XCTAssertEqual(try OutOfRangeDetail(payload: refusal.payload),
                       OutOfRangeDetail(parameter: .brightness, minimum: 0, maximum: 100))

        let identity = try Identity(payload: Frame(parsing: Golden.identifyResponse).payload)
        XCTAssertEqual(identity.model, "LS-S1")
        XCTAssertEqual(identity.serial, "SC001")
        XCTAssertEqual(identity.firmware, "1.0.0")
        XCTAssertEqual(identity.hardwareRevision, "A")
        XCTAssertEqual(identity.geometry, WallGeometry(cabinetColumns: 2, cabinetRows: 1, modulesX: 2, modulesY: 2,
                                                       moduleWidth: 64, moduleHeight: 32))
        XCTAssertEqual(identity.geometry.wallWidth, 256)
        XCTAssertEqual(identity.geometry.wallHeight, 64)
    }

    func testMessagesSurviveSerializeThenParse() throws {
        let identity = try Identity(payload: Frame(parsing: Golden.identifyResponse).payload)
        XCTAssertEqual(Frame(flags: .response, requestID: 5, command: 2, payload: identity.serialized).serialized,
                       Golden.identifyResponse)
        let event = EventRecord(sequence: 7, uptimeSeconds: 3600, type: .overTemperature, cabinet: 2, value: 853)
        XCTAssertEqual(try EventRecord(payload: event.serialized), event)
        XCTAssertEqual(event.serialized, [0x07, 0, 0, 0, 0x10, 0x0E, 0, 0, 0x01, 0x00, 0x02, 0x00, 0x55, 0x03])
        let report = ModuleTestReport(cabinet: 1, modules: [
            ModuleTestResult(module: 0, checks: .all, supplyMillivolts: 5000, driverICsExpected: 12, driverICsFound: 12),
            ModuleTestResult(module: 1, checks: [.supplyInRange], supplyMillivolts: 4980, driverICsExpected: 12, driverICsFound: 0),
        ])
        XCTAssertEqual(report.serialized, [0x01, 0x00, 0x02,                  // cabinet 1, count 2
                                           0x00, 0x0F, 0x88, 0x13, 0x0C, 0x0C, // module 0: all pass, 5000 mV, 12/12
                                           0x01, 0x02, 0x74, 0x13, 0x0C, 0x00]) // module 1: supply only, 4980 mV, 12/0
        XCTAssertEqual(try ModuleTestReport(payload: report.serialized), report)
        XCTAssertEqual(report.modules[1].checks.failedCheckNames, ["data chain", "driver ICs", "calibration checksum"])
        let telemetry = Telemetry(cabinet: 0, temperatureDeciCelsius: -105, supplyMillivolts: 5010, fanRPM: 2400,
                                  runtimeHours: 1234, powerCycles: 56)
        XCTAssertEqual(try Telemetry(payload: telemetry.serialized), telemetry)
    }

    func testEventFrameParses() throws {
        let frame = try Frame(parsing: Golden.overTemperatureEvent)
        XCTAssertEqual(frame.flags, [.response, .event])
        XCTAssertEqual(frame.requestID, 0)
        XCTAssertEqual(try EventRecord(payload: frame.payload),
                       EventRecord(sequence: 7, uptimeSeconds: 3600, type: .overTemperature, cabinet: 2, value: 853))
    }

    func testEveryOneByteFlipOfAGoldenFrameIsRejected() {
        let frames = [Golden.helloRequest, Golden.helloResponse, Golden.getBrightnessRequest,
                      Golden.getBrightnessResponse, Golden.setRefreshRateRetry, Golden.outOfRangeResponse,
                      Golden.readLEDStatusRequest, Golden.identifyResponse, Golden.overTemperatureEvent]
        for golden in frames {
            for index in golden.indices {
                for flip: UInt8 in [0x01, 0x80, 0xFF] {
                    var bytes = golden
                    bytes[index] ^= flip
                    XCTAssertThrowsError(try Frame(parsing: bytes), "flip 0x\(flip) at byte \(index) accepted")
                }
            }
        }
    }

    func testRejectionReasonsAreNamed() {
        var reserved = Golden.helloRequest
        reserved[3] = 0x08
        XCTAssertThrowsError(try Frame(parsing: reserved)) { XCTAssertEqual($0 as? FrameError, .reservedFlags(0x08)) }
        var oversized = Golden.helloRequest
        oversized[8] = 0x01; oversized[9] = 0x04 // length 1025
        XCTAssertThrowsError(try Frame(parsing: oversized)) { XCTAssertEqual($0 as? FrameError, .oversizedLength(1025)) }
        var badCRC = Golden.helloRequest
        badCRC[15] ^= 0x01
        XCTAssertThrowsError(try Frame(parsing: badCRC)) {
            guard case .badCRC = $0 as? FrameError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Frame(parsing: Array(Golden.helloRequest.dropLast()))) {
            XCTAssertEqual($0 as? FrameError, .truncated)
        }
        XCTAssertThrowsError(try Frame(parsing: Golden.helloRequest + [0])) {
            XCTAssertEqual($0 as? FrameError, .trailingBytes)
        }
        XCTAssertThrowsError(try Frame(parsing: [1, 2, 3])) { XCTAssertEqual($0 as? FrameError, .noStartOfFrame) }
    }

    func testDecoderFindsFramesAmongGarbageAndInsideRejectedFrames() {
        // A frame with a bad CRC whose payload holds a complete valid frame: dropping only
        // the first byte on rejection must let the decoder find the inner one.
        var outer = Frame(requestID: 9, command: 0x08, payload: [0x11] + Golden.helloResponse + [0x22]).serialized
        outer[outer.count - 1] ^= 0xFF
        let stream: [UInt8] = [0x00, 0xA5, 0xA5, 0x5A, 0xFF] + outer + [0x5A] + Golden.getBrightnessResponse
        var decoder = FrameDecoder()
        decoder.append(stream)
        var frames: [Frame] = []
        var rejections: [FrameError] = []
        while let output = decoder.next() {
            switch output {
            case .frame(let frame): frames.append(frame)
            case .rejected(let reason, _): rejections.append(reason)
            }
        }
        XCTAssertEqual(frames.map(\.serialized), [Golden.helloResponse, Golden.getBrightnessResponse])
        XCTAssertTrue(rejections.contains { if case .badCRC = $0 { true } else { false } })
        XCTAssertEqual(decoder.bufferedCount, 0)
    }

    func testDecoderGivesTheSameFramesWhenFedOneByteAtATime() {
        let stream = Golden.helloResponse + [0x42, 0xA5] + Golden.identifyResponse + Golden.getBrightnessResponse
        var decoder = FrameDecoder()
        var frames: [Frame] = []
        for byte in stream {
            decoder.append([byte])
            while let output = decoder.next() { if case .frame(let frame) = output { frames.append(frame) } }
        }
        XCTAssertEqual(frames.map(\.serialized), [Golden.helloResponse, Golden.identifyResponse, Golden.getBrightnessResponse])
    }

    func testAbandoningAStalledPartialFrameResumesTheHunt() {
        var decoder = FrameDecoder()
        decoder.append(Golden.helloResponse.prefix(12)) // bytes stop arriving mid-frame
        XCTAssertNil(decoder.next())
        XCTAssertTrue(decoder.hasPartialFrame)
        XCTAssertNotNil(decoder.abandonPartialFrame())
        decoder.append(Golden.helloResponse)
        var found: Frame?
        while let output = decoder.next() { if case .frame(let frame) = output { found = frame } }
        XCTAssertEqual(found?.serialized, Golden.helloResponse)
    }

    func testRandomBytesNeverCrashTheDecoderNorYieldAFrameWithABadCRC() {
        var generator = SystemRandomNumberGenerator()
        var decoder = FrameDecoder()
        var frames = 0
        for _ in 0..<2000 {
            // Bias towards A5 5A so headers are actually exercised.
            let chunk = (0..<Int.random(in: 1...600, using: &generator)).map { _ -> UInt8 in
                switch UInt8.random(in: 0...9, using: &generator) {
                case 0: 0xA5
                case 1: 0x5A
                default: UInt8.random(in: 0...255, using: &generator)
                }
            }
            decoder.append(chunk)
            while let output = decoder.next() {
                if case .frame(let frame) = output {
                    frames += 1
                    XCTAssertNoThrow(try Frame(parsing: frame.serialized))
                }
            }
            XCTAssertLessThanOrEqual(decoder.bufferedCount, Frame.maximumSize + 600)
        }
        XCTAssertLessThan(frames, 3, "random bytes should almost never pass a CRC-32")
    }

    func testPayloadErrorsNameTheField() {
        XCTAssertThrowsError(try ParameterReading(payload: [0x01, 0x50, 0x00])) {
            XCTAssertEqual($0 as? WireFormatError, .truncated(field: "value"))
        }
        XCTAssertThrowsError(try HelloResponse(payload: Golden.helloResponse[10..<17] + [0])) {
            XCTAssertEqual($0 as? WireFormatError, .trailingBytes(count: 1))
        }
        XCTAssertThrowsError(try CabinetInfo(payload: [0, 0, 65] + Array(repeating: 0x41, count: 65))) {
            XCTAssertEqual($0 as? WireFormatError, .invalidString(field: "serial"))
        }
        XCTAssertThrowsError(try CabinetInfo(payload: [0, 0, 2, 0xC3, 0x28])) {
            XCTAssertEqual($0 as? WireFormatError, .invalidString(field: "serial"))
        }
        // An event type v1 does not define is kept by number, not refused.
        XCTAssertEqual(try EventRecord(payload: [1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0]).type, .unknown(9))
        XCTAssertThrowsError(try EventRecord(payload: [1, 0, 0, 0, 0, 0, 0, 0, 1, 0xF1, 0, 0, 0, 0])) {
            XCTAssertEqual($0 as? WireFormatError, .invalidValue(field: "reserved", value: 0xF1))
        }
        XCTAssertThrowsError(try ModuleTestReport(payload: [0, 0, 2, 0, 0x0F, 0x88, 0x13, 12, 12])) {
            XCTAssertEqual($0 as? WireFormatError, .truncated(field: "module"))
        }
    }

    func testLongStringsAreCutAtSixtyFourBytesOnACharacterBoundary() throws {
        var bytes: [UInt8] = []
        bytes.appendWireString(String(repeating: "a", count: 63) + "é")
        XCTAssertEqual(bytes.first, 63)
        var reader = WireReader(bytes)
        XCTAssertEqual(try reader.string("s"), String(repeating: "a", count: 63))
    }

    func testNamesOfParametersAndPatternsFollowTheDocument() {
        XCTAssertEqual(ParameterID(name: "refresh_rate"), .refreshRate)
        XCTAssertEqual(ParameterID(name: "Colour-Temperature"), .colourTemperature)
        XCTAssertEqual(ParameterID(name: "6"), .inputSource)
        XCTAssertNil(ParameterID(name: "contrast"))
        XCTAssertEqual(TestPattern(name: "walking_pixel"), .walkingPixel)
        XCTAssertEqual(TestPattern(name: "normal")?.rawValue, 255)
        XCTAssertNil(TestPattern(name: "plaid"))
    }
}
