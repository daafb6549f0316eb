#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import LEDLink

/// The real libusb code against a LEDSentry controller that exists only in a umockdev
/// testbed (Tests/Support/umockdev/ledsentry-controller-usb.umockdev); its URBs are served
/// live by Tests/Support/umockdev/usb-bridge.py, here echoing every OUT byte back IN.
final class USBBulkEchoTests: XCTestCase {
    static let controller = USBDeviceInfo(vendorID: 0x1209, productID: 0x4C53, bus: 1, address: 7,
                                          serial: "LSC-0001", manufacturer: "LEDSentry",
                                          product: "LEDSentry Display Controller")
    private var bridge: USBBridge!

    override func setUpWithError() throws {
        bridge = try USBBridge.current(.echo)
    }

    func testListFindsTheControllerWithItsStrings() throws {
        XCTAssertEqual(try USBBulkTransport.list(), [Self.controller])
        XCTAssertEqual(Self.controller.portName, "usb 1209:4c53 serial LSC-0001")
        XCTAssertEqual(try USBBulkTransport.list(vendorID: 0x1209, productID: 0x0001), [])
    }

    func testControllerPortsListTheUSBControllerAsAnOpenableSpec() throws {
        let listed = try listControllerPorts().filter { $0.path.hasPrefix("usb:") }
        XCTAssertEqual(listed, [PortInfo(
            path: "usb:1209:4c53:LSC-0001", summary: "LEDSentry Display Controller - LSC-0001",
            transport: .usb(vid: 0x1209, pid: 0x4C53, serial: "LSC-0001", manufacturer: "LEDSentry",
                            product: "LEDSentry Display Controller"))])
        let link = try openPort(listed[0].path)
        defer { link.close() }
        XCTAssertTrue(link is USBBulkTransport)
    }

    func testBulkRoundTripCarriesEveryByte() throws {
        let link = try USBBulkTransport()
        defer { link.close() }
        XCTAssertEqual(link.portName, "usb 1209:4c53 serial LSC-0001")
        // More than one transfer's worth, every byte value, read back in small pieces.
        let sent = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try link.write(sent, deadline: .after(milliseconds: 5000))
        var got: [UInt8] = []
        while got.count < sent.count {
            got += try link.read(maxCount: 1000, deadline: .after(milliseconds: 5000))
        }
        XCTAssertEqual(got, sent)
    }

    func testWritesPassAWaitingRead() throws {
        let link = try USBBulkTransport()
        defer { link.close() }
        // The echo answers by itself.
        try assertWritesPassAWaitingRead(link, request: [1, 2, 3], reply: [1, 2, 3]) {}
    }

    func testReadTimesOutAtItsDeadline() throws {
        let link = try USBBulkTransport()
        defer { link.close() }
        let started = ContinuousClock.now
        XCTAssertLinkError(.timedOut(port: link.portName, operation: "read")) {
            try link.read(maxCount: 64, deadline: .after(milliseconds: 250))
        }
        let waited = started.duration(to: .now)
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(250))
        XCTAssertLessThan(waited, .seconds(3))
    }

    func testDiscardInputDropsUnreadBytes() throws {
        let link = try USBBulkTransport()
        defer { link.close() }
        try link.write([1, 2, 3, 4], deadline: .after(milliseconds: 1000))
        XCTAssertEqual(try link.read(maxCount: 1, deadline: .after(milliseconds: 1000)), [1])
        try link.discardInput()
        try link.write([9], deadline: .after(milliseconds: 1000))
        XCTAssertEqual(try link.read(maxCount: 64, deadline: .after(milliseconds: 1000)), [9])
    }

    func testUnplugMidReadIsDisconnectedNotAHang() throws {
        let link = try USBBulkTransport()
        defer { link.close() }
        let bridge = self.bridge!
        defer { bridge.plugIn() }
        assertUnplugMidReadIsDisconnected(link) { bridge.unplug() }
    }

    func testSecondClaimIsBusy() throws {
        let first = try USBBulkTransport()
        defer { first.close() }
        XCTAssertLinkError(.busy(port: "usb 1209:4c53 serial LSC-0001")) { try USBBulkTransport() }
        first.close()
        let second = try USBBulkTransport()  // released on close
        second.close()
    }

    func testNoDeviceAndWrongSerialAreNotFound() {
        XCTAssertLinkError(.notFound(port: "usb 1209:ffff")) { try USBBulkTransport(productID: 0xFFFF) }
        XCTAssertLinkError(.notFound(port: "usb 1209:4c53 serial NOPE")) { try USBBulkTransport(serial: "NOPE") }
    }

    func testOpenPortTakesUSBSpecsAndSerialNumbers() throws {
        for spec in ["usb", "usb:1209:4c53", "usb:1209:4C53:LSC-0001", "LSC-0001"] {
            let link = try openPort(spec)
            XCTAssertTrue(link is USBBulkTransport, "\(spec): got \(type(of: link))")
            XCTAssertEqual(link.portName, "usb 1209:4c53 serial LSC-0001", spec)
            link.close()
        }
        XCTAssertLinkError(.invalidArgument("'usb:12:zz': expected usb:VID:PID[:SERIAL] with hex ids, e.g. usb:1209:4c53")) {
            try openPort("usb:12:zz")
        }
        XCTAssertLinkError(.notFound(port: "USB serial number NOPE")) { try openPort("NOPE") }
    }
}

/// The same device, its URBs forwarded by the bridge to the real emulator's socket.
final class USBBulkEmulatorTests: XCTestCase {
    override func setUpWithError() throws {
        _ = try USBBridge.current(.emulator)
    }

    func testHelloThroughLibUSBReachesTheEmulator() throws {
        let link = try USBBulkTransport()
        defer { link.close() }
        for id: UInt16 in [1, 2, 0x7FFF] {
            try link.write(Hello.request(id: id), deadline: .after(milliseconds: 2000))
            XCTAssertEqual(try Hello.response(id: id, over: link, deadline: .after(milliseconds: 2000)),
                           Hello.expectedPayload)
        }
    }

    func testRecordedUSBSessionReplays() throws {
        let session = NSTemporaryDirectory() + "ledsentry-usb-\(getpid()).session"
        defer { unlink(session) }
        let recorder = try RecordingTransport(wrapping: try USBBulkTransport(), sessionPath: session)
        try recorder.write(Hello.request(id: 42), deadline: .after(milliseconds: 2000))
        let live = try Hello.response(id: 42, over: recorder, deadline: .after(milliseconds: 2000))
        recorder.close()
        let replay = try ReplayTransport(sessionPath: session)
        XCTAssertEqual(replay.portName, "replay of usb 1209:4c53 serial LSC-0001 from \(session)")
        try replay.write(Hello.request(id: 42), deadline: .after(milliseconds: 100))
        XCTAssertEqual(try Hello.response(id: 42, over: replay, deadline: .after(milliseconds: 100)), live)
    }
}

/// The emulator unplugs itself (`--fault 'unplug-after seconds=1'`): the bridge sees its
/// socket close and the USB device vanishes, mid-read.
final class USBBulkEmulatorUnplugTests: XCTestCase {
    func testEmulatorUnplugEndsAReadWithDisconnected() throws {
        _ = try USBBridge.current(.emulator)
        let link = try USBBulkTransport()
        defer { link.close() }
        try link.write(Hello.request(id: 1), deadline: .after(milliseconds: 2000))
        XCTAssertEqual(try Hello.response(id: 1, over: link, deadline: .after(milliseconds: 2000)), Hello.expectedPayload)
        let started = ContinuousClock.now
        XCTAssertLinkError(.disconnected(port: link.portName)) {
            while true { _ = try link.read(maxCount: 64, deadline: .after(milliseconds: 8000)) }
        }
        XCTAssertLessThan(started.duration(to: .now), .seconds(6))
    }
}
