import Foundation
import XCTest
@testable import LEDControllers

/// The firmware's test vectors (Firmware/tests/vectors.txt, Docs/controller-protocol.md
/// section 5), taken from the reference device: every frame must decode, every payload
/// must parse as its message, and re-serializing must give back the very same bytes.
final class TestVectorTests: XCTestCase {
    struct Vector {
        var name: String
        var request: [UInt8]?
        var response: [UInt8]
    }

    private func vectors() throws -> [Vector] {
        let path = repositoryRoot.appendingPathComponent("Firmware/tests/vectors.txt").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 3 else { throw CocoaError(.fileReadCorruptFile) }
            return Vector(name: fields[0], request: fields[1] == "-" ? nil : try bytes(fields[1]), response: try bytes(fields[2]))
        }
    }

    private func bytes(_ hex: String) throws -> [UInt8] {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { throw CocoaError(.fileReadCorruptFile) }
        return try stride(from: 0, to: digits.count, by: 2).map { index in
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                throw CocoaError(.fileReadCorruptFile)
            }
            return byte
        }
    }

    /// Parses `payload` as `Message` and checks it serializes back to the same bytes.
    private func roundTrip<Message: WireMessage>(_: Message.Type, _ payload: [UInt8], _ name: String) throws -> Message {
        let message = try Message(payload: payload)
        XCTAssertEqual(message.serialized, payload, "\(name): \(Message.self) does not round-trip")
        return message
    }

    private func checkRequest(_ command: Command, _ payload: [UInt8], _ name: String) throws {
        switch command {
        case .hello: _ = try roundTrip(HelloRequest.self, payload, name)
        case .identify, .clearEvents, .reboot: XCTAssertEqual(payload, [], name)
        case .cabinetInfo: _ = try roundTrip(CabinetInfoRequest.self, payload, name)
        case .getParameter: _ = try roundTrip(GetParameterRequest.self, payload, name)
        case .setParameter: _ = try roundTrip(SetParameterRequest.self, payload, name)
        case .showPattern: _ = try roundTrip(ShowPatternRequest.self, payload, name)
        case .moduleTest: _ = try roundTrip(ModuleTestRequest.self, payload, name)
        case .readLEDStatus: _ = try roundTrip(ReadLEDStatusRequest.self, payload, name)
        case .readTelemetry: _ = try roundTrip(ReadTelemetryRequest.self, payload, name)
        case .readEvents: _ = try roundTrip(ReadEventsRequest.self, payload, name)
        case .event: XCTFail("\(name): a request with the EVENT command")
        }
    }

    private func checkResponse(_ command: Command, _ payload: [UInt8], _ name: String) throws {
        switch command {
        case .hello: _ = try roundTrip(HelloResponse.self, payload, name)
        case .identify: _ = try roundTrip(Identity.self, payload, name)
        case .cabinetInfo: _ = try roundTrip(CabinetInfo.self, payload, name)
        case .getParameter: _ = try roundTrip(ParameterReading.self, payload, name)
        case .setParameter: _ = try roundTrip(ParameterValue.self, payload, name)
        case .showPattern: _ = try roundTrip(PatternSelection.self, payload, name)
        case .moduleTest: _ = try roundTrip(ModuleTestReport.self, payload, name)
        case .readLEDStatus: _ = try roundTrip(LEDStatusChunk.self, payload, name)
        case .readTelemetry: _ = try roundTrip(Telemetry.self, payload, name)
        case .readEvents: _ = try roundTrip(EventLog.self, payload, name)
        case .clearEvents: _ = try roundTrip(ClearEventsResponse.self, payload, name)
        case .reboot: XCTAssertEqual(payload, [], name)
        case .event: _ = try roundTrip(EventRecord.self, payload, name)
        }
    }

    func testEveryVectorDecodesParsesAndReserializesExactly() throws {
        let all = try vectors()
        XCTAssertGreaterThanOrEqual(all.count, 10)
        for vector in all {
            let response = try Frame(parsing: vector.response)
            XCTAssertEqual(response.serialized, vector.response, vector.name)
            XCTAssertTrue(response.flags.contains(.response), vector.name)
            let status = try XCTUnwrap(Status(rawValue: response.status), vector.name)

            if let requestBytes = vector.request {
                let request = try Frame(parsing: requestBytes)
                XCTAssertEqual(request.serialized, requestBytes, vector.name)
                XCTAssertEqual(response.requestID, request.requestID, "\(vector.name): id echoed")
                XCTAssertEqual(response.command, request.command, "\(vector.name): command echoed")
                if let command = Command(rawValue: request.command), request.version == 1, status != .badLength {
                    try checkRequest(command, request.payload, vector.name)
                }
            } else {
                XCTAssertEqual(response.flags, [.response, .event], vector.name)
                XCTAssertEqual(response.requestID, 0, vector.name)
            }

            switch status {
            case .ok:
                try checkResponse(try XCTUnwrap(Command(rawValue: response.command), vector.name), response.payload, vector.name)
            case .outOfRange: _ = try roundTrip(OutOfRangeDetail.self, response.payload, vector.name)
            case .unsupportedVersion: _ = try roundTrip(VersionRange.self, response.payload, vector.name)
            default: XCTAssertEqual(response.payload, [], "\(vector.name): only OK, OUT_OF_RANGE, UNSUPPORTED_VERSION carry a payload")
            }
        }
    }

    func testVectorsMeanWhatTheirDeviceWasSetUpWith() throws {
        let byName = Dictionary(uniqueKeysWithValues: try vectors().map { ($0.name, $0) })
        func payload(_ name: String) throws -> [UInt8] { try Frame(parsing: XCTUnwrap(byName[name], name).response).payload }

        let identity = try Identity(payload: payload("identify"))
        XCTAssertEqual(identity.geometry, WallGeometry(cabinetColumns: 2, cabinetRows: 2, modulesX: 2, modulesY: 2,
                                                       moduleWidth: 64, moduleHeight: 32))
        let chunk = try LEDStatusChunk(payload: payload("read_led_status"))
        XCTAssertEqual(chunk.total, 8192)
        // --fault 'dead-led cabinet=0 x=2 y=0 channel=red': LED 2 of cabinet 0, red OPEN.
        XCTAssertEqual(chunk.data.enumerated().filter { $0.element != 0 }.map { [$0.offset, Int($0.element)] }, [[2, 1]])
        let event = try EventRecord(payload: payload("event_over_temperature"))
        XCTAssertEqual(event.type, .overTemperature)
        XCTAssertEqual(event.cabinet, 1)
        XCTAssertEqual(event.value, 850)
        // The retry is answered from the device's cache: the very bytes of the first answer.
        XCTAssertEqual(byName["retry_set_param"]?.response, byName["set_param_ok"]?.response)
        let retry = try Frame(parsing: XCTUnwrap(byName["retry_set_param"]?.request))
        XCTAssertEqual(retry.flags, .retry)
        XCTAssertEqual(ControllerSession.describeRefusal(.unsupportedVersion, payload: try payload("unsupported_version")),
                       "device speaks protocol versions 1...1, this host speaks 1")
    }
}
