import XCTest
import LEDLink
@testable import LEDControllers

/// The client against the in-memory `FakeController`, through links that misbehave in one
/// named way each. Short attempt timeouts keep the timing paths fast.
final class ControllerClientTests: XCTestCase {
    private let quick = Duration.milliseconds(40)

    func testTypedCommandsRoundTrip() async throws {
        let link = FakeLink()
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        let hello = try await client.hello()
        XCTAssertEqual(hello.version, 1)
        let identity = try await client.identify()
        XCTAssertEqual(identity.model, "LS-FAKE")
        let brightness = try await client.parameter(.brightness)
        XCTAssertEqual(brightness.value, 80)
        let now = try await client.setParameter(.brightness, to: 35)
        XCTAssertEqual(now, 35)
        let reread = try await client.parameter(.brightness)
        XCTAssertEqual(reread.value, 35)
        XCTAssertEqual(link.requests.map(\.requestID), [1, 2, 3, 4, 5], "fresh ids counting up from 1")
        XCTAssertTrue(link.requests.allSatisfy { $0.flags.isEmpty })
    }

    func testALostResponseIsRetriedWithTheSameIdAndExecutesOnce() async throws {
        let link = DroppingLink(dropping: [0, 1])
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        let value = try await client.setParameter(.refreshRate, to: 1920)
        XCTAssertEqual(value, 1920)
        XCTAssertEqual(link.requests.count, 3)
        XCTAssertEqual(Set(link.requests.map(\.requestID)), [1])
        XCTAssertEqual(link.requests.map { $0.flags.contains(.retry) }, [false, true, true])
        XCTAssertEqual(Set(link.requests.map(\.payload)).count, 1, "a retry re-sends the same payload")
        XCTAssertEqual(link.device.executions[.setParameter], 1, "the device ran SET_PARAM once")
    }

    func testABadCRCTriggersARetryAndTheCorruptAnswerIsNeverUsed() async throws {
        let link = CorruptingLink(corrupting: [0])
        let client = ControllerClient(transport: link, attemptTimeout: .milliseconds(2000))
        let start = ContinuousClock.now
        let reading = try await client.parameter(.brightness)
        XCTAssertEqual(reading, ParameterReading(parameter: .brightness, value: 80, minimum: 0, maximum: 100))
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(1000), "retried at once, not after the timeout")
        XCTAssertEqual(link.requests.map { $0.flags.contains(.retry) }, [false, true])
        let statistics = await client.statistics()
        XCTAssertEqual(statistics.retries, 1)
    }

    func testEventsStaleAnswersAndGarbageAreSkippedAndEventsQueued() async throws {
        let link = ChattyLink()
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        let reading = try await client.parameter(.refreshRate)
        XCTAssertEqual(reading.value, 3840)
        let identity = try await client.identify()
        XCTAssertEqual(identity.serial, "FAKE-0001")
        let events = await client.takeUnsolicitedEvents()
        XCTAssertEqual(events.map(\.sequence), [1, 2])
        XCTAssertEqual(events.first?.type, .fanStall)
        let statistics = await client.statistics()
        XCTAssertEqual(statistics.retries, 0)
        XCTAssertEqual(statistics.staleResponses, 4)
    }

    func testASilentDeviceGivesAClearErrorAfterEveryAttempt() async {
        let client = ControllerClient(transport: SilentLink(), retries: 2, attemptTimeout: quick)
        let start = ContinuousClock.now
        do {
            _ = try await client.identify()
            XCTFail("a silent device answered")
        } catch {
            guard case .noResponse(let port, let request, let attempts, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(port, "fake-port")
            XCTAssertTrue(request.contains("IDENTIFY"), request)
            XCTAssertEqual(attempts, 3)
            XCTAssertTrue(error.description.contains("timed out"), error.description)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(1000))
    }

    func testAnUnpluggedDeviceIsALinkError() async {
        let link = FakeLink()
        link.isUnplugged = true
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        do {
            _ = try await client.hello()
            XCTFail("an unplugged device answered")
        } catch {
            guard case .link(.disconnected(let port), let request) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(port, "fake-port")
            XCTAssertTrue(request.contains("HELLO"))
        }
    }

    func testRefusalsCarryTheStatusAndItsDetail() async {
        let client = ControllerClient(transport: FakeLink(), attemptTimeout: quick)
        do {
            _ = try await client.setParameter(.brightness, to: 101)
            XCTFail("out-of-range value accepted")
        } catch {
            XCTAssertEqual(error.status, .outOfRange)
            XCTAssertTrue(error.description.contains("brightness must be within 0...100"), error.description)
            XCTAssertTrue(error.description.contains("fake-port"), error.description)
        }
        do {
            _ = try await client.parameter(ParameterID(rawValue: 42))
            XCTFail("unknown parameter accepted")
        } catch {
            XCTAssertEqual(error.status, .unknownParameter)
        }
    }

    func testLEDStatusIsReadInChunksAndMappedToWallCoordinates() async throws {
        let device = FakeController()
        device.ledStatus[1][3 * 16 + 9] = 0b00_00_01 // cabinet 1, x 9, y 3: red OPEN
        device.ledStatus[0][5 * 16 + 2] = 0b11_00_00 // cabinet 0, x 2, y 5: blue WEAK
        device.ledStatus[0][7 * 16 + 15] = 0x40      // cabinet 0, x 15, y 7: no data
        let client = ControllerClient(transport: FakeLink(device: device), attemptTimeout: quick)
        let map = try await client.readWallStatus()
        XCTAssertEqual(map.cabinets.map { $0?.count }, [128, 128])
        XCTAssertEqual(map.faults, [
            LEDFault(location: LEDLocation(cabinet: 0, module: 2, cabinetX: 2, cabinetY: 5, moduleX: 2, moduleY: 1,
                                           wallX: 2, wallY: 5), channel: .blue, condition: .weak),
            LEDFault(location: LEDLocation(cabinet: 0, module: 3, cabinetX: 15, cabinetY: 7, moduleX: 7, moduleY: 3,
                                           wallX: 15, wallY: 7), channel: nil, condition: .noData),
            LEDFault(location: LEDLocation(cabinet: 1, module: 1, cabinetX: 9, cabinetY: 3, moduleX: 1, moduleY: 3,
                                           wallX: 25, wallY: 3), channel: .red, condition: .open),
        ])
        XCTAssertEqual(map.status(wallX: 25, wallY: 3)?.condition(.red), .open)
        XCTAssertEqual(map.status(wallX: 25, wallY: 3)?.condition(.green), .ok)
        XCTAssertNil(map.status(wallX: 32, wallY: 0))
    }

    func testChunksShrinkOnANoisyLinkAndTheDataIsStillExact() async throws {
        let device = FakeController()
        device.identity.geometry = WallGeometry(cabinetColumns: 1, cabinetRows: 1, modulesX: 2, modulesY: 2,
                                                moduleWidth: 32, moduleHeight: 16)
        device.ledStatus = [(0..<2048).map { UInt8($0 % 64) }]
        let link = LongFrameLosingLink(limit: 300, device: device)
        let client = ControllerClient(transport: link, retries: 1, attemptTimeout: .milliseconds(20))
        try await client.hello()
        let bytes = try await client.readLEDStatus(cabinet: 0)
        XCTAssertTrue(bytes == device.ledStatus[0], "read \(bytes.count) bytes, not the device's 2048")
        let asked = link.requests.filter { $0.command == Command.readLEDStatus.rawValue }
            .compactMap { try? ReadLEDStatusRequest(payload: $0.payload).maxBytes }
        XCTAssertEqual(asked.first, 1014)
        XCTAssertTrue(asked.contains { $0 <= 253 }, "chunks shrank below the lossy size: \(asked)")
    }

    func testAWallIsReadFromADeviceWithoutHello() async throws {
        let device = FakeController()
        device.ledStatus[1][0] = 0b10_00_00 // cabinet 1, LED 0: blue SHORT
        let client = ControllerClient(transport: HelloLessLink(device: device), attemptTimeout: quick)
        let map = try await client.readWallStatus()
        XCTAssertEqual(map.faults.map(\.condition), [.short])
    }

    func testAnImpossibleWallGeometryIsABadResponseNotACrash() async {
        let device = FakeController()
        device.identity.geometry = WallGeometry(cabinetColumns: 0xFFFF, cabinetRows: 0xFFFF, modulesX: 255, modulesY: 255,
                                                moduleWidth: 0xFFFF, moduleHeight: 0xFFFF)
        let client = ControllerClient(transport: FakeLink(device: device), attemptTimeout: quick)
        do {
            _ = try await client.readWallStatus()
            XCTFail("read a wall of 2^32 LEDs per cabinet")
        } catch {
            guard case .badResponse(_, _, let problem, _) = error else { return XCTFail("\(error)") }
            // The first limit broken is the cabinet count (RobustnessTests covers each field).
            XCTAssertTrue(problem.contains("cabinet_columns x cabinet_rows"), problem)
        }
    }

    func testWrongDataWithAGoodCRCIsRejectedNotUsed() async {
        let client = ControllerClient(transport: LyingLink(), attemptTimeout: quick)
        do {
            _ = try await client.readLEDStatus(cabinet: 0)
            XCTFail("wrong offset accepted")
        } catch {
            guard case .badResponse(_, _, let problem, let received) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(problem.contains("offset"), problem)
            XCTAssertFalse(received.isEmpty)
        }
    }

    func testRequestIDsWrapFromFFFFToOneNeverZero() throws {
        let link = FakeLink()
        let session = ControllerSession(transport: link, attemptTimeout: quick)
        for _ in 0..<0x1_0001 { _ = try session.send(HelloRequest()) }
        XCTAssertEqual(link.requests.count, 0x1_0001)
        XCTAssertEqual(link.requests.prefix(2).map(\.requestID), [1, 2])
        XCTAssertEqual(link.requests.suffix(3).map(\.requestID), [0xFFFF, 1, 2])
        XCTAssertFalse(link.requests.contains { $0.requestID == 0 })
    }

    func testEventLogIsReadAndCleared() async throws {
        let device = FakeController()
        device.events = (1...70).map {
            EventRecord(sequence: UInt32($0), uptimeSeconds: UInt32($0 * 10), type: .linkError, cabinet: 0, value: 1)
        }
        let client = ControllerClient(transport: FakeLink(device: device), attemptTimeout: quick)
        let events = try await client.events()
        XCTAssertEqual(events.map(\.sequence), Array(1...70), "read in two batches of at most 64")
        let cleared = try await client.clearEvents()
        XCTAssertEqual(cleared, 70)
        let after = try await client.events()
        XCTAssertEqual(after, [])
    }
}
