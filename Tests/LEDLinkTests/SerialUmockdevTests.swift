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
        try assertEveryBytePassesBothWays(link, device: device)
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
