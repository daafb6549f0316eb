#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import LEDLink

final class TermiosTransportTests: XCTestCase {
    func testBytesPassBothWaysUnchanged() throws {
        let pty = try PseudoTerminal()
        let link = try TermiosTransport(path: pty.devicePath)
        defer { link.close() }
        XCTAssertEqual(link.info.transport, .virtual)
        try assertEveryBytePassesBothWays(link, device: pty)
    }

    func testReadReturnsAtMostMaxCount() throws {
        let pty = try PseudoTerminal()
        let link = try TermiosTransport(path: pty.devicePath)
        pty.send([1, 2, 3, 4, 5])
        usleep(50_000)
        XCTAssertEqual(try link.read(maxCount: 2, deadline: .after(milliseconds: 1000)), [1, 2])
        XCTAssertEqual(try link.read(maxCount: 10, deadline: .after(milliseconds: 1000)), [3, 4, 5])
    }

    func testReadTimesOutAtItsDeadline() throws {
        let pty = try PseudoTerminal()
        let link = try TermiosTransport(path: pty.devicePath)
        let started = ContinuousClock.now
        XCTAssertLinkError(.timedOut(port: pty.devicePath, operation: "read")) {
            try link.read(maxCount: 16, deadline: .after(milliseconds: 150))
        }
        let waited = started.duration(to: .now)
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(150), "returned before its deadline")
        XCTAssertLessThan(waited, .seconds(3), "overran its deadline")
    }

    func testWriteIntoAFullQueueTimesOutAtItsDeadline() throws {
        // Nobody reads the master: the PTY's buffer fills and the write must give up.
        let pty = try PseudoTerminal()
        let link = try TermiosTransport(path: pty.devicePath)
        let started = ContinuousClock.now
        XCTAssertLinkError(.timedOut(port: pty.devicePath, operation: "write")) {
            try link.write([UInt8](repeating: 0x55, count: 1 << 20), deadline: .after(milliseconds: 300))
        }
        XCTAssertLessThan(started.duration(to: .now), .seconds(3))
        withExtendedLifetime(pty) {}
    }

    func testUnplugMidReadIsDisconnectedNotAHang() throws {
        let pty = try PseudoTerminal()
        let link = try TermiosTransport(path: pty.devicePath)
        assertUnplugMidReadIsDisconnected(link) { pty.unplug() }
    }

    func testWritesPassAWaitingRead() throws {
        let pty = try PseudoTerminal()
        let link = try TermiosTransport(path: pty.devicePath)
        try assertWritesPassAWaitingRead(link, request: [1, 2, 3], reply: [4, 5]) {
            XCTAssertEqual(pty.receive(count: 3), [1, 2, 3])
            pty.send([4, 5])
        }
    }

    func testDiscardInputDropsWhatWasNotRead() throws {
        let pty = try PseudoTerminal()
        let link = try TermiosTransport(path: pty.devicePath)
        pty.send([9, 9, 9])
        usleep(50_000)
        try link.discardInput()
        pty.send([7])
        XCTAssertEqual(try link.read(maxCount: 16, deadline: .after(milliseconds: 1000)), [7])
    }

    func testOpenErrorsNameTheProblem() throws {
        XCTAssertLinkError(.notFound(port: "/dev/ledsentry-no-such-port")) {
            try TermiosTransport(path: "/dev/ledsentry-no-such-port")
        }
        XCTAssertLinkError(.invalidArgument("/dev/null is not a terminal")) {
            try TermiosTransport(path: "/dev/null")
        }
        XCTAssertLinkError(.invalidArgument("empty port path")) { try TermiosTransport(path: "") }
        let pty = try PseudoTerminal()
        XCTAssertLinkError(.invalidArgument("baud rate 12345 is not a standard termios speed")) {
            try TermiosTransport(path: pty.devicePath, baudRate: 12345)
        }
    }

    func testClosedTransportSaysDisconnected() throws {
        let pty = try PseudoTerminal()
        let link = try TermiosTransport(path: pty.devicePath)
        link.close()
        XCTAssertLinkError(.disconnected(port: pty.devicePath)) {
            try link.read(maxCount: 1, deadline: .after(milliseconds: 100))
        }
    }
}
