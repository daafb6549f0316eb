#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import LEDLink

/// What `openPort` says about specs that cannot work, on a machine without the device.
final class PortOpenerTests: XCTestCase {
    func testBadSpecsGetErrorsNamingThem() {
        XCTAssertLinkError(.invalidArgument("empty port name")) { try openPort("") }
        XCTAssertLinkError(.notFound(port: "/dev/ledsentry-none")) { try openPort("/dev/ledsentry-none") }
        XCTAssertLinkError(.notFound(port: "/tmp/ledsentry-none/port")) { try openPort("/tmp/ledsentry-none/port") }
        XCTAssertLinkError(.notFound(port: "USB serial number LEDSENTRY-NONE")) { try openPort("LEDSENTRY-NONE") }
        XCTAssertLinkError(.notFound(port: "usb 1209:4c53 serial LEDSENTRY-NONE")) { try openPort("usb:1209:4c53:LEDSENTRY-NONE") }
        XCTAssertLinkError(.invalidArgument("/dev/null is not a terminal")) { try openPort("/dev/null") }
    }

    func testRecordingToAnUnwritablePlaceSaysWhere() throws {
        let pty = try PseudoTerminal()
        XCTAssertLinkError(.system(port: "/nonexistent/dir/session.txt", operation: "create session file",
                                   code: ENOENT, message: errnoMessage(ENOENT))) {
            try RecordingTransport(wrapping: try TermiosTransport(path: pty.devicePath),
                                   sessionPath: "/nonexistent/dir/session.txt")
        }
    }
}
