#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import LEDLink

/// The real libserialport code against a USB-serial adapter that exists only in the
/// umockdev testbed (Tests/Support/umockdev/usb-serial-adapter.umockdev), its tty
/// pointed at a PTY this test plays the device on. Needs the modem-lines shim first in
/// LD_PRELOAD; Tests/run-swift-tests sets all of that up.
final class SerialUmockdevTests: XCTestCase {
    static let adapter = PortInfo(
        path: "/dev/ttyUSB0", summary: "FT232R USB UART - LSE0042",
        transport: .usb(vid: 0x0403, pid: 0x6001, serial: "LSE0042", manufacturer: "FTDI",
                        product: "FT232R USB UART"))

    private var testbed: Testbed!
    private var device: PseudoTerminal!

    override func setUpWithError() throws {
        testbed = try Testbed.current()
        device = try PseudoTerminal()
        try testbed.point("/dev/ttyUSB0", at: device.devicePath)
    }

    func testListPortsReportsTheAdapterWithItsUSBIdentity() throws {
        XCTAssertEqual(try listPorts(), [Self.adapter])
        XCTAssertEqual(Self.adapter.description,
                       "/dev/ttyUSB0 (usb 0403:6001, FTDI, FT232R USB UART, serial LSE0042)")
    }

    func testBackendIsLibSerialPortForTheAdapterAndTermiosForAPTY() throws {
        XCTAssertEqual(try serialBackend(for: "/dev/ttyUSB0"), .libserialport)
        XCTAssertEqual(try serialBackend(for: device.devicePath),
                       .termios(reason: "\(device.devicePath) is a pseudo-terminal"))
        XCTAssertLinkError(.notFound(port: "/dev/ttyUSB9")) { try serialBackend(for: "/dev/ttyUSB9") }
    }

    func testTrafficBothWaysThroughLibSerialPort() throws {
        let link = try SerialTransport(path: "/dev/ttyUSB0")
        defer { link.close() }
        XCTAssertEqual(link.info, Self.adapter)
        try assertEveryBytePassesBothWays(link, device: device)
    }

    func testWritesPassAWaitingRead() throws {
        let link = try SerialTransport(path: "/dev/ttyUSB0")
        let device = self.device!
        try assertWritesPassAWaitingRead(link, request: [1, 2, 3], reply: [4, 5]) {
            XCTAssertEqual(device.receive(count: 3), [1, 2, 3])
            device.send([4, 5])
        }
    }

    func testDiscardInputDropsWhatWasNotRead() throws {
        let link = try SerialTransport(path: "/dev/ttyUSB0")
        device.send([9, 9, 9])
        usleep(50_000)
        try link.discardInput()
        device.send([7])
        XCTAssertEqual(try link.read(maxCount: 16, deadline: .after(milliseconds: 1000)), [7])
    }

    func testOpenByUSBSerialNumberPicksLibSerialPort() throws {
        let link = try openPort("LSE0042")
        defer { link.close() }
        XCTAssertTrue(link is SerialTransport, "got \(type(of: link))")
        XCTAssertEqual(link.portName, "/dev/ttyUSB0")
        device.send([0xA5, 0x5A])
        XCTAssertEqual(try link.read(maxCount: 8, deadline: .after(milliseconds: 1000)), [0xA5, 0x5A])
        XCTAssertLinkError(.notFound(port: "USB serial number NOPE")) { try openPort("NOPE") }
    }

    func testOpenPortPicksTermiosForAPTY() throws {
        let other = try PseudoTerminal()
        let link = try openPort(other.devicePath)
        defer { link.close() }
        XCTAssertTrue(link is TermiosTransport, "got \(type(of: link))")
    }

    func testReadTimesOutAtItsDeadline() throws {
        let link = try SerialTransport(path: "/dev/ttyUSB0")
        let started = ContinuousClock.now
        XCTAssertLinkError(.timedOut(port: "/dev/ttyUSB0", operation: "read")) {
            try link.read(maxCount: 16, deadline: .after(milliseconds: 200))
        }
        let waited = started.duration(to: .now)
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(200))
        XCTAssertLessThan(waited, .seconds(3))
    }

    func testWriteIntoAFullQueueTimesOutAtItsDeadline() throws {
        // Nobody reads the device side: the PTY's buffer fills and the write must give up.
        let link = try SerialTransport(path: "/dev/ttyUSB0")
        let started = ContinuousClock.now
        XCTAssertLinkError(.timedOut(port: "/dev/ttyUSB0", operation: "write")) {
            try link.write([UInt8](repeating: 0x55, count: 1 << 20), deadline: .after(milliseconds: 300))
        }
        let waited = started.duration(to: .now)
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(300))
        XCTAssertLessThan(waited, .seconds(3))
    }

    func testUnplugMidReadIsDisconnectedNotAHang() throws {
        let link = try SerialTransport(path: "/dev/ttyUSB0")
        let device = self.device!
        assertUnplugMidReadIsDisconnected(link) { device.unplug() }
    }

    func testSecondOpenIsBusy() throws {
        let first = try SerialTransport(path: "/dev/ttyUSB0")
        defer { first.close() }
        XCTAssertLinkError(.busy(port: "/dev/ttyUSB0")) { try SerialTransport(path: "/dev/ttyUSB0") }
    }

    func testHelloToTheEmulatorThroughLibSerialPort() throws {
        // The emulator puts the testbed's /dev/ttyUSB0 link on its own PTY.
        let emulator = try Emulator(["--link", testbed.root + "/dev/ttyUSB0"])
        let link = try openPort("/dev/ttyUSB0")
        defer { link.close() }
        XCTAssertTrue(link is SerialTransport, "got \(type(of: link))")
        for id: UInt16 in [1, 2, 3] {
            try link.write(Hello.request(id: id), deadline: .after(milliseconds: 2000))
            XCTAssertEqual(try Hello.response(id: id, over: link, deadline: .after(milliseconds: 2000)),
                           Hello.expectedPayload)
        }
        withExtendedLifetime(emulator) {}
    }

    func testEmulatorUnplugIsDisconnectedThroughLibSerialPort() throws {
        let emulator = try Emulator(["--link", testbed.root + "/dev/ttyUSB0", "--fault", "unplug-after seconds=0.5"])
        let link = try SerialTransport(path: "/dev/ttyUSB0")
        let started = ContinuousClock.now
        XCTAssertLinkError(.disconnected(port: "/dev/ttyUSB0")) {
            while true { _ = try link.read(maxCount: 64, deadline: .after(milliseconds: 5000)) }
        }
        XCTAssertLessThan(started.duration(to: .now), .seconds(4))
        withExtendedLifetime(emulator) {}
    }
}

/// The same adapter without the modem-lines shim: libserialport 0.1.1 cannot open a PTY
/// (its sp_open reads the modem lines, which a PTY lacks), and `openPort` falls back to
/// termios for it. This is the fact the two serial backends exist for.
final class SerialUmockdevWithoutShimTests: XCTestCase {
    func testLibSerialPortRefusesAPTYAndOpenPortFallsBackToTermios() throws {
        let testbed = try Testbed.current()
        guard !(ProcessInfo.processInfo.environment["LD_PRELOAD"] ?? "").contains("modem-lines-shim") else {
            throw TestbedMisconfigured(message: "this class must run without the modem-lines shim")
        }
        let device = try PseudoTerminal()
        try testbed.point("/dev/ttyUSB0", at: device.devicePath)
        XCTAssertLinkError(.system(port: "/dev/ttyUSB0", operation: "open", code: ENOTTY, message: errnoMessage(ENOTTY))) {
            try SerialTransport(path: "/dev/ttyUSB0")
        }
        let link = try openPort("/dev/ttyUSB0")
        defer { link.close() }
        XCTAssertTrue(link is TermiosTransport, "got \(type(of: link))")
        try assertEveryBytePassesBothWays(link, device: device)
    }
}
