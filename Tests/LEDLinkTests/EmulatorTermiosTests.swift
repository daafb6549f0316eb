import XCTest
@testable import LEDLink

/// The termios backend against the real emulator on its PTY.
final class EmulatorTermiosTests: XCTestCase {
    func testCRCCheckValue() {
        XCTAssertEqual(Hello.crc32(Array("123456789".utf8)), 0xCBF4_3926)
    }

    func testHelloThroughOpenPortPicksTermios() throws {
        let emulator = try Emulator()
        let link = try openPort(emulator.port)
        defer { link.close() }
        XCTAssertTrue(link is TermiosTransport, "got \(type(of: link))")
        try link.write(Hello.request(id: 0x0102), deadline: .after(milliseconds: 2000))
        XCTAssertEqual(try Hello.response(id: 0x0102, over: link, deadline: .after(milliseconds: 2000)),
                       Hello.expectedPayload)
    }

    func testLinkMadeByTheEmulatorIsFollowedToTermios() throws {
        let link = NSTemporaryDirectory() + "ledsentry-emu-link-\(getpid())"
        let emulator = try Emulator(["--link", link])
        XCTAssertEqual(try serialBackend(for: link),
                       .termios(reason: "it is a link to the pseudo-terminal \(emulator.port)"))
        let port = try openPort(link)
        defer { port.close() }
        try port.write(Hello.request(id: 7), deadline: .after(milliseconds: 2000))
        XCTAssertEqual(try Hello.response(id: 7, over: port, deadline: .after(milliseconds: 2000)), Hello.expectedPayload)
    }

    func testEmulatorUnplugMidReadIsDisconnectedWithinTheDeadline() throws {
        let emulator = try Emulator(["--fault", "unplug-after seconds=0.5"])
        let link = try TermiosTransport(path: emulator.port)
        let started = ContinuousClock.now
        XCTAssertLinkError(.disconnected(port: emulator.port)) {
            while true { _ = try link.read(maxCount: 64, deadline: .after(milliseconds: 5000)) }
        }
        XCTAssertLessThan(started.duration(to: .now), .seconds(4))
    }

    func testRecordedEmulatorSessionReplaysTheSameBytes() throws {
        let emulator = try Emulator()
        let session = NSTemporaryDirectory() + "ledsentry-hello-\(getpid()).session"
        defer { unlink(session) }
        let recorder = try RecordingTransport(wrapping: try TermiosTransport(path: emulator.port), sessionPath: session)
        try recorder.write(Hello.request(id: 1), deadline: .after(milliseconds: 2000))
        let live = try Hello.response(id: 1, over: recorder, deadline: .after(milliseconds: 2000))
        recorder.close()

        let replay = try ReplayTransport(sessionPath: session)
        try replay.write(Hello.request(id: 1), deadline: .after(milliseconds: 100))
        XCTAssertEqual(try Hello.response(id: 1, over: replay, deadline: .after(milliseconds: 100)), live)
        XCTAssertEqual(live, Hello.expectedPayload)
    }
}
