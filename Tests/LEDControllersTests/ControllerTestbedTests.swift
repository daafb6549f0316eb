import Foundation
import LEDLink
import XCTest
@testable import LEDControllers

// The controller client over the real libserialport and libusb code, against the
// emulator, inside umockdev testbeds (Tests/run-swift-tests starts them; see
// Docs/usb-and-serial.md). Outside a testbed these classes skip, saying how they are run.

/// Through libserialport: the testbed's USB-serial adapter /dev/ttyUSB0 (serial number
/// LSE0042) is pointed at the emulator's PTY with the emulator's own --link.
final class ControllerOverLibSerialPortTests: XCTestCase {
    private func testbedDevice() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let root = environment["UMOCKDEV_DIR"], environment["LEDSENTRY_USB_BRIDGE_MODE"] == nil else {
            throw XCTSkip("not inside the USB-serial umockdev testbed: Tests/run-swift-tests runs this class under "
                          + "umockdev-run -d Tests/Support/umockdev/usb-serial-adapter.umockdev with the modem-lines shim")
        }
        return root + "/dev/ttyUSB0"
    }

    func testEveryCommandAndAFaultThroughLibSerialPortByUSBSerialNumber() async throws {
        let node = try testbedDevice()
        let emulator = try startEmulator(smallWall + ["--link", node, "--fault", "stuck-led cabinet=1 x=4 y=3 channel=blue"])
        defer { emulator.stop() }
        let transport = try openPort("LSE0042")
        XCTAssertTrue(transport is SerialTransport, "the adapter goes through libserialport, not \(type(of: transport))")
        let client = ControllerClient(transport: transport)
        let identity = try await client.identify()
        let map = try await client.readWallStatus(identity: identity)
        XCTAssertEqual(map.faults, [LEDFault(location: map.location(cabinet: 1, index: 3 * 32 + 4), channel: .blue,
                                             condition: .short)])
        let reading = try await client.parameter(.gamma)
        XCTAssertEqual(reading.value, 220)
        let modules = try await client.moduleTest(cabinet: 0)
        XCTAssertTrue(modules.modules.allSatisfy(\.passed))
    }

    func testEveryCommandThroughLibSerialPort() async throws {
        let node = try testbedDevice()
        let emulator = try startEmulator(smallWall + ["--link", node])
        defer { emulator.stop() }
        let client = ControllerClient(transport: try openPort("/dev/ttyUSB0"))
        try await assertEveryCommandWorks(client, geometry: WallGeometry(
            cabinetColumns: 2, cabinetRows: 2, modulesX: 2, modulesY: 2, moduleWidth: 16, moduleHeight: 8))
    }
}

/// Through libusb: the testbed's LEDSentry USB controller, whose bulk transfers the USB
/// bridge forwards to an emulator it started (default wall, no faults).
final class ControllerOverUSBTests: XCTestCase {
    func testEveryCommandThroughLibUSB() async throws {
        guard ProcessInfo.processInfo.environment["LEDSENTRY_USB_BRIDGE_MODE"] == "emulator" else {
            throw XCTSkip("not inside the USB umockdev testbed with the emulator: Tests/run-swift-tests runs this class "
                          + "under Tests/Support/umockdev/usb-bridge.py --emulator")
        }
        let transport = try openPort("usb:1209:4c53")
        XCTAssertTrue(transport is USBBulkTransport)
        let client = ControllerClient(transport: transport)
        try await assertEveryCommandWorks(client, geometry: WallGeometry(
            cabinetColumns: 2, cabinetRows: 2, modulesX: 2, modulesY: 2, moduleWidth: 64, moduleHeight: 32))
    }
}
