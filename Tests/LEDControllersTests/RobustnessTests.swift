import Foundation
import XCTest
import LEDLink
@testable import LEDControllers

/// Devices written by other people: hostile identities, BUSY answers, event types from a
/// newer firmware, slow and lossy links. Fakes are named for how they misbehave; the
/// emulator tests use the real firmware over a PTY.
final class RobustnessTests: XCTestCase {
    private let quick = Duration.milliseconds(40)

    // MARK: 1. IDENTIFY within the protocol's limits

    private func geometry(_ columns: UInt16, _ rows: UInt16, _ modulesX: UInt8, _ modulesY: UInt8,
                          _ width: UInt16, _ height: UInt16) -> WallGeometry {
        WallGeometry(cabinetColumns: columns, cabinetRows: rows, modulesX: modulesX, modulesY: modulesY,
                     moduleWidth: width, moduleHeight: height)
    }

    func testAHostileIdentityIsRefusedNamingTheFieldBeforeAnyCabinetIsRead() async {
        let cases: [(WallGeometry, String)] = [
            (geometry(65535, 65535, 2, 2, 64, 32), "cabinet_columns x cabinet_rows = 65535 x 65535"),
            (geometry(2, 2, 2, 2, 0, 32), "module_width is 0"),
            (geometry(0, 2, 2, 2, 64, 32), "cabinet_columns is 0"),
            (geometry(2, 2, 2, 0, 64, 32), "modules_y is 0"),
            (geometry(2, 2, 14, 13, 64, 32), "182 modules a cabinet, more than the 170"),
            (geometry(1, 1, 13, 13, 65535, 65535), "more than a u32 status length"),
            (geometry(300, 200, 13, 13, 256, 16), "exceeds 4294967295 LEDs"),
        ]
        for (hostile, expected) in cases {
            let link = HostileIdentityLink(geometry: hostile)
            let client = ControllerClient(transport: link, attemptTimeout: quick)
            do {
                _ = try await client.readWallStatus()
                XCTFail("read a wall of \(hostile)")
            } catch {
                guard case .badResponse(_, let request, let problem, _) = error else { XCTFail("\(error)"); continue }
                XCTAssertEqual(request, "IDENTIFY")
                XCTAssertTrue(problem.contains(expected), "\(problem) should contain \(expected)")
            }
            XCTAssertEqual(link.requests.map(\.command), [Command.hello.rawValue, Command.identify.rawValue],
                           "no cabinet of \(hostile) was asked for")
        }
    }

    func testTheLargestWallsTheProtocolCarriesAreAccepted() {
        XCTAssertNil(geometry(65535, 1, 1, 1, 1, 1).limitViolation, "65535 cabinets (0xFFFF is the sending card)")
        XCTAssertNotNil(geometry(256, 256, 1, 1, 1, 1).limitViolation, "65536 cabinets")
        XCTAssertNil(geometry(2, 2, 10, 17, 64, 32).limitViolation, "170 modules")
        XCTAssertNil(geometry(1, 1, 1, 1, 65535, 65535).limitViolation, "a cabinet just under the u32 status length")
    }

    // MARK: 2. BUSY is waited out, with new requests

    func testABusyReadIsAskedAgainAsNewRequestsUntilTheDeviceIsFree() async throws {
        let link = BusyForAWhileLink(busyAnswers: 3)
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        let reading = try await client.parameter(.brightness)
        XCTAssertEqual(reading.value, 80)
        XCTAssertEqual(link.requests.map(\.requestID), [1, 2, 3, 4], "each try is a new request id")
        XCTAssertTrue(link.requests.allSatisfy { !$0.flags.contains(.retry) }, "a RETRY would get the remembered BUSY")
        let statistics = await client.statistics()
        XCTAssertEqual(statistics.busyRetries, 3)
    }

    func testADeviceThatStaysBusyIsReportedAfterTheBusyTimeout() async throws {
        let link = BusyForAWhileLink(busyAnswers: .max)
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        try await client.withSession { $0.busyTimeout = .milliseconds(300) }
        let start = ContinuousClock.now
        do {
            _ = try await client.telemetry(cabinet: 0)
            XCTFail("a busy device answered")
        } catch {
            XCTAssertEqual(error.status, .busy)
            XCTAssertTrue(error.description.contains("still busy after"), error.description)
            XCTAssertTrue(error.description.contains("module test"), error.description)
        }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(150))
        XCTAssertGreaterThan(link.requests.count, 2)
    }

    func testABusyAnswerToAWriteIsReportedAtOnce() async {
        let link = BusyForAWhileLink(busyAnswers: 1)
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        do {
            _ = try await client.setParameter(.brightness, to: 10)
            XCTFail("BUSY was not reported")
        } catch {
            XCTAssertEqual(error.status, .busy)
        }
        XCTAssertEqual(link.requests.count, 1, "a write is not sent again on its own")
    }

    func testReadsWaitOutARealModuleTest() throws {
        // 169 modules: the emulator's test takes 40 ms + 5 ms each = 885 ms.
        let emulator = try startEmulator(["--cabinets", "1x1", "--modules", "13x13", "--module-size", "2x2"])
        defer { emulator.stop() }
        let transport = try TermiosTransport(path: emulator.portPath)
        defer { transport.close() }
        let session = ControllerSession(transport: transport)
        XCTAssertEqual(try session.send(GetParameterRequest(parameter: .gamma)).value, 220)
        // A module test sent by hand (id 0x7000), then a read while it runs.
        let test = Frame(requestID: 0x7000, command: Command.moduleTest.rawValue,
                         payload: ModuleTestRequest(cabinet: 0).serialized)
        try transport.write(test.serialized, deadline: .now + .seconds(1))
        Thread.sleep(forTimeInterval: 0.05)
        let start = ContinuousClock.now
        let reading = try session.send(GetParameterRequest(parameter: .brightness))
        XCTAssertEqual(reading.value, 80)
        XCTAssertGreaterThan(session.statistics.busyRetries, 0, "the device said BUSY first")
        XCTAssertGreaterThan(ContinuousClock.now - start, .milliseconds(400), "answered after the test ended")
        XCTAssertEqual(session.statistics.retries, 0, "BUSY is never answered with a RETRY")
    }

    // MARK: 3. Event types from a newer firmware

    func testUnknownEventTypesAreKeptAndShownByNumber() async throws {
        let link = NewEventTypeLink()
        link.device.events = [
            EventRecord(sequence: 1, uptimeSeconds: 0, type: .powerLoss, cabinet: EventRecord.sendingCard, value: 0),
            EventRecord(sequence: 2, uptimeSeconds: 3, type: .unknown(9), cabinet: 1, value: -5),
        ]
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        let events = try await client.events()
        XCTAssertEqual(events.map(\.type), [.powerLoss, .unknown(9)])
        XCTAssertEqual(events.map(\.type.rawValue), [5, 9])
        XCTAssertEqual("\(events[1].type)", "unknown(9)")
        XCTAssertFalse(events[1].type.isKnown)
        let unsolicited = await client.takeUnsolicitedEvents()
        XCTAssertEqual(unsolicited.map(\.type), [.unknown(NewEventTypeLink.newType)], "the EVENT frame was kept")
        XCTAssertEqual(unsolicited.first?.value, 42)
        // A record round-trips with its number, and JSON keeps the number too.
        XCTAssertEqual(try EventRecord(payload: events[1].serialized), events[1])
        let json = try JSONEncoder().encode(events[1])
        XCTAssertEqual(try JSONDecoder().decode(EventRecord.self, from: json).type, .unknown(9))
        XCTAssertEqual(EventType(rawValue: 1), .overTemperature)
        XCTAssertEqual(EventType.unknown(1), .overTemperature, "compared by number")
    }

    func testAMalformedEventRecordIsStillRejected() async {
        let link = ReservedByteEventLink()
        link.device.events = [EventRecord(sequence: 1, uptimeSeconds: 0, type: .fanStall, cabinet: 0, value: 0)]
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        do {
            _ = try await client.events()
            XCTFail("a record with a nonzero reserved byte was accepted")
        } catch {
            guard case .badResponse(_, _, let problem, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(problem.contains("reserved"), problem)
        }
        var short = EventRecord(sequence: 1, uptimeSeconds: 0, type: .unknown(77), cabinet: 0, value: 0).serialized
        short.removeLast()
        XCTAssertThrowsError(try EventRecord(payload: short), "a 13-byte record")
        XCTAssertThrowsError(try EventRecord(payload: short + [0, 0, 0]), "a 16-byte record")
    }

    // MARK: 4. Attempt timeouts from the measured round trip

    func testTheRetransmissionTimerFollowsTheRoundTripWithinItsBounds() {
        var timer = RetransmissionTimer()
        let ceiling = Duration.milliseconds(500)
        XCTAssertEqual(timer.timeout(attempt: 0, ceiling: ceiling), ceiling, "no sample yet: the protocol's timeout")
        for _ in 0..<20 { timer.record(.microseconds(200)) }
        XCTAssertEqual(timer.timeout(attempt: 0, ceiling: ceiling), RetransmissionTimer.floor, "a fast link hits the floor")
        XCTAssertEqual(timer.timeout(attempt: 1, ceiling: ceiling), RetransmissionTimer.floor * 2, "backed off")
        XCTAssertEqual(timer.timeout(attempt: 5, ceiling: ceiling), ceiling, "never above the ceiling")
        XCTAssertEqual(timer.timeout(attempt: 0, ceiling: .milliseconds(10)), .milliseconds(10), "a user's shorter timeout wins")
        timer.backOff()
        XCTAssertEqual(timer.timeout(attempt: 0, ceiling: ceiling), RetransmissionTimer.floor * 2, "a needed longer wait is kept")
        timer.record(.microseconds(200))
        XCTAssertEqual(timer.timeout(attempt: 0, ceiling: ceiling), RetransmissionTimer.floor, "until a clean sample")
        var slow = RetransmissionTimer()
        for _ in 0..<20 { slow.record(.milliseconds(200)) }
        let settled = slow.timeout(attempt: 0, ceiling: .seconds(3))
        XCTAssertGreaterThanOrEqual(settled, .milliseconds(200))
        XCTAssertLessThan(settled, .milliseconds(260))
        slow.record(.milliseconds(400))
        XCTAssertGreaterThan(slow.timeout(attempt: 0, ceiling: .seconds(3)), settled, "jitter widens the margin")
    }

    func testALostAnswerCostsAboutTheMeasuredRoundTripNotTheFullTimeout() async throws {
        let link = DroppingLink(dropping: [10])
        let client = ControllerClient(transport: link, attemptTimeout: .milliseconds(2000))
        for _ in 0..<10 { _ = try await client.parameter(.brightness) }
        let start = ContinuousClock.now
        _ = try await client.parameter(.brightness)
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(1000), "retried well before the 2000 ms ceiling")
        XCTAssertEqual(link.requests.suffix(2).map { $0.flags.contains(.retry) }, [false, true])
    }

    func testFixedTimeoutsStillWaitTheFullAttempt() async throws {
        let link = DroppingLink(dropping: [3])
        let client = ControllerClient(transport: link, attemptTimeout: .milliseconds(300))
        try await client.withSession { $0.adaptiveTimeouts = false }
        for _ in 0..<3 { _ = try await client.parameter(.brightness) }
        let start = ContinuousClock.now
        _ = try await client.parameter(.brightness)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(300))
    }

    func testADeviceThatTurnsSlowIsStillHeardThroughBackoff() async throws {
        // Fast for 10 requests (the timer learns ~0 ms), then 100 ms an answer: more than
        // the 20 ms floor, so the first attempts time out (this fake drops the earlier
        // attempt's answer) and a doubled one (160 ms) succeeds; later requests start from
        // the longer wait that worked.
        let link = SlowingLink { index in index < 10 ? .zero : .milliseconds(100) }
        let client = ControllerClient(transport: link, attemptTimeout: .milliseconds(500))
        for _ in 0..<10 { _ = try await client.parameter(.brightness) }
        for _ in 0..<3 {
            let reading = try await client.parameter(.brightness)
            XCTAssertEqual(reading.value, 80)
        }
        let resends = link.requests.dropFirst(10).filter { $0.flags.contains(.retry) }.count
        XCTAssertLessThan(resends, 3 * 3, "the kept backoff spares later requests some re-sends")
    }

    // MARK: 5. Slow lines, reboots, odd settings

    func testAnAnswerStillArrivingWhenTheAttemptEndsIsWaitedFor() async throws {
        // IDENTIFY's 54 bytes, 8 every 10 ms: about 70 ms, more than the 30 ms attempt.
        let link = TricklingLink(piece: 8, gap: .milliseconds(10))
        let client = ControllerClient(transport: link, attemptTimeout: .milliseconds(30))
        let identity = try await client.identify()
        XCTAssertEqual(identity.serial, "FAKE-0001")
        XCTAssertEqual(link.requests.count, 1, "no re-send while the answer was arriving")
    }

    func testEmptyReadsDoNotKeepAStalledAnswerAlive() async {
        let link = EmptyReadingLink()
        let client = ControllerClient(transport: link, retries: 1, attemptTimeout: quick)
        let start = ContinuousClock.now
        do {
            _ = try await client.identify()
            XCTFail("a truncated answer was accepted")
        } catch {
            guard case .noResponse(_, _, let attempts, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(attempts, 2)
        }
        // Each attempt ends 40 ms after its start (the header's bytes stopped), not after the
        // 1.1 s an answer still arriving may take.
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(900))
    }

    func testAFloodOfEventsKeepsTheNewestInABoundedQueue() async throws {
        let link = EventFloodingLink(count: 1500)
        let client = ControllerClient(transport: link, attemptTimeout: .milliseconds(500))
        let reading = try await client.parameter(.brightness)
        XCTAssertEqual(reading.value, 80)
        let events = await client.takeUnsolicitedEvents()
        XCTAssertEqual(events.count, ControllerSession.maximumQueuedEvents)
        XCTAssertEqual(events.last?.sequence, 1500)
        let statistics = await client.statistics()
        XCTAssertEqual(statistics.droppedEvents, 1500 - ControllerSession.maximumQueuedEvents)
    }

    func testARetryAnsweredFromAnEarlierSessionsMemoryStillSetsTheValue() async throws {
        // An earlier session's SET_PARAM brightness = 50 had request id 1 too.
        let link = FirstRequestLosingLink()
        link.device.remember(Frame(flags: .response, requestID: 1, command: Command.setParameter.rawValue,
                                   payload: ParameterValue(parameter: .brightness, value: 50).serialized))
        let client = ControllerClient(transport: link, attemptTimeout: quick)
        let now = try await client.setParameter(.brightness, to: 35)
        XCTAssertEqual(now, 35)
        XCTAssertEqual(link.device.parameters[1]?.value, 35, "the device really holds the new value")
        XCTAssertEqual(link.requests.map(\.requestID), [1, 2], "the stale answer's id 1, then a new request")
        XCTAssertEqual(link.device.executions[.setParameter], 1)
    }

    func testANegativeRetryCountMeansOneAttemptNotATrap() async {
        let client = ControllerClient(transport: SilentLink(), retries: -1, attemptTimeout: quick)
        do {
            _ = try await client.identify()
            XCTFail("a silent device answered")
        } catch {
            guard case .noResponse(_, _, let attempts, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(attempts, 1)
        }
    }

    func testAfterARebootTheSilenceIsWaitedOutEvenWithShortLearnedTimeouts() async throws {
        let emulator = try startEmulator(smallWall)
        defer { emulator.stop() }
        // One re-send only: 20 + 40 ms of learned attempts would not cover the 500 ms silence.
        let client = try termiosClient(emulator, retries: 1)
        for _ in 0..<10 { _ = try await client.parameter(.gamma) }
        try await client.reboot()
        let reading = try await client.parameter(.gamma) // a command whose round trip was learned
        XCTAssertEqual(reading.value, 220)
    }
}
