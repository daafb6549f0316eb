import Foundation
import LEDLink
import XCTest
@testable import LEDControllers

/// A device on the far side of a real pseudo-terminal that answers every request with
/// bytes a test scripts: garbage, truncated, oversized and wrong-CRC frames. The client
/// reaches it through TermiosTransport, as it would a real port.
final class HostileDevice: @unchecked Sendable {
    let portPath: String
    private let master: Int32
    private let answer: @Sendable (_ request: Frame, _ attempt: Int) -> [UInt8]
    private let stopped = NSLock()
    private var isStopped = false
    private var thread: Thread?

    init(answer: @escaping @Sendable (_ request: Frame, _ attempt: Int) -> [UInt8]) throws {
        // posix_openpt and friends are not in Swift's Glibc module; their ioctls are
        // (Linux x86_64 and arm64 values of TIOCSPTLCK and TIOCGPTN).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw LinkError.system(port: "/dev/ptmx", operation: "open", code: errno, message: "cannot make a PTY")
        }
        portPath = "/dev/pts/\(number)"
        self.answer = answer
        let thread = Thread { [unowned self] in self.serve() }
        self.thread = thread
        thread.start()
    }

    func stop() {
        stopped.withLock { isStopped = true }
        usleep(60_000)
        close(master)
    }

    private func serve() {
        var decoder = FrameDecoder()
        var attempts = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopped.withLock({ isStopped }) {
            var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 20) > 0 else { continue }
            let count = read(master, &buffer, buffer.count)
            guard count > 0 else { continue }
            decoder.append(buffer[0..<count])
            while let output = decoder.next() {
                guard case .frame(let request) = output else { continue }
                attempts += 1
                let reply = answer(request, attempts)
                reply.withUnsafeBytes { _ = write(master, $0.baseAddress, $0.count) }
            }
        }
    }
}

final class HostileDeviceTests: XCTestCase {
    private static let reading = ParameterReading(parameter: .brightness, value: 55, minimum: 0, maximum: 100)

    private static func goodAnswer(to request: Frame) -> [UInt8] {
        Frame(flags: .response, requestID: request.requestID, command: request.command, payload: reading.serialized).serialized
    }

    private func ask(_ device: HostileDevice, retries: Int = 3) async -> Result<ParameterReading, ControllerError> {
        do {
            let client = ControllerClient(transport: try TermiosTransport(path: device.portPath), retries: retries,
                                          attemptTimeout: .milliseconds(300))
            return .success(try await client.parameter(.brightness))
        } catch let error as ControllerError {
            return .failure(error)
        } catch {
            XCTFail("\(error)")
            return .failure(.noResponse(port: "", request: "", attempts: 0, observed: "\(error)"))
        }
    }

    func testGarbageBeforeTheAnswerIsSkipped() async throws {
        let device = try HostileDevice { request, _ in
            var generator = SystemRandomNumberGenerator()
            let garbage = (0..<3000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return garbage + [0xA5, 0x5A, 0xA5] + Self.goodAnswer(to: request)
        }
        defer { device.stop() }
        let answer = await ask(device)
        XCTAssertEqual(try answer.get(), Self.reading)
    }

    func testATruncatedAnswerIsAbandonedAndTheRetryAnswered() async throws {
        let device = try HostileDevice { request, attempt in
            let good = Self.goodAnswer(to: request)
            return attempt == 1 ? Array(good.prefix(good.count - 6)) : good
        }
        defer { device.stop() }
        let answer = await ask(device)
        XCTAssertEqual(try answer.get(), Self.reading)
    }

    func testAnOversizedLengthIsRejectedWithoutWaitingForItsBytes() async throws {
        let device = try HostileDevice { request, _ in
            [0xA5, 0x5A, 0x01, 0x01, 0x01, 0x00, 0x04, 0x00, 0xFF, 0xFF, 0x00, 0x00] + Self.goodAnswer(to: request)
        }
        defer { device.stop() }
        let answer = await ask(device)
        XCTAssertEqual(try answer.get(), Self.reading)
    }

    func testAlwaysWrongCRCEndsInAClearErrorNotWrongData() async throws {
        let device = try HostileDevice { request, _ in
            var bad = Self.goodAnswer(to: request)
            bad[12] ^= 0x04 // the value's low byte: 55 would read as 51
            return bad
        }
        defer { device.stop() }
        switch await ask(device, retries: 2) {
        case .success(let reading):
            XCTFail("accepted a frame with a bad CRC: \(reading)")
        case .failure(let error):
            guard case .noResponse(let port, let request, let attempts, let observed) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(port, device.portPath)
            XCTAssertTrue(request.contains("GET_PARAM (parameter brightness)"), request)
            XCTAssertEqual(attempts, 3)
            XCTAssertTrue(observed.contains("bad CRC"), observed)
        }
    }

    func testAGoodCRCAroundAWrongPayloadIsABadResponse() async throws {
        let device = try HostileDevice { request, _ in
            Frame(flags: .response, requestID: request.requestID, command: request.command, payload: [0x01, 0x37]).serialized
        }
        defer { device.stop() }
        switch await ask(device) {
        case .success(let reading):
            XCTFail("accepted a 2-byte GET_PARAM answer: \(reading)")
        case .failure(let error):
            guard case .badResponse(_, _, let problem, let received) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(problem.contains("value"), problem)
            XCTAssertEqual(received.count, 16)
        }
    }

    func testAnAnswerForAnotherRequestIsNeverTaken() async throws {
        let device = try HostileDevice { request, attempt in
            var other = Frame(flags: .response, requestID: request.requestID &+ 1, command: request.command,
                              payload: ParameterReading(parameter: .brightness, value: 1, minimum: 0, maximum: 100).serialized)
            if attempt > 1 { other.requestID = request.requestID }
            return other.serialized
        }
        defer { device.stop() }
        // The first attempt only gets an answer for id+1 (ignored); the retry gets one with
        // the right id, which is then taken.
        let result = try await ask(device).get()
        XCTAssertEqual(result.value, 1)
    }
}

/// Record a session with the real emulator, replay it without one: same answers.
final class RecordReplayTests: XCTestCase {
    func testARecordedSessionReplaysToTheSameWallMap() async throws {
        let emulator = try startEmulator(smallWall + ["--fault", "dead-led cabinet=2 x=5 y=6 channel=blue",
                                                      "--fault", "dead-module cabinet=0 module=1"])
        defer { emulator.stop() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ledsentry-session-\(getpid()).txt").path
        defer { try? FileManager.default.removeItem(atPath: file) }

        let recorded = ControllerClient(transport: try RecordingTransport(
            wrapping: try TermiosTransport(path: emulator.portPath), sessionPath: file))
        let liveIdentity = try await recorded.identify()
        let live = try await recorded.readWallStatus(identity: liveIdentity)
        emulator.stop()

        let replayed = ControllerClient(transport: try ReplayTransport(sessionPath: file))
        let identity = try await replayed.identify()
        let map = try await replayed.readWallStatus(identity: identity)
        XCTAssertEqual(identity, liveIdentity)
        XCTAssertEqual(map.faults, live.faults)
        XCTAssertEqual(map.faults.filter { $0.condition == .noData }.count, 128)
        XCTAssertTrue(map.faults.contains(LEDFault(location: map.location(cabinet: 2, index: 6 * 32 + 5),
                                                   channel: .blue, condition: .open)))
    }
}
