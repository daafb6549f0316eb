#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import LEDLink

/// A serial port this user may not open (its node read-only, as without the dialout group):
/// both backends say "permission denied" with the fix, not a bare errno. Runs in the
/// serial testbed without CAP_DAC_OVERRIDE.
final class SerialPermissionTests: XCTestCase {
    func testReadOnlyPortIsPermissionDeniedWithAHint() throws {
        let testbed = try Testbed.current()
        try requireFilePermissionsApply()
        let device = try PseudoTerminal()
        XCTAssertEqual(chmod(device.devicePath, 0o444), 0)
        try testbed.point("/dev/ttyUSB0", at: device.devicePath)
        let hint = "add your user to the 'dialout' group or install the udev rule in Docs/usb-and-serial.md"
        XCTAssertLinkError(.permissionDenied(port: "/dev/ttyUSB0", hint: hint)) { try SerialTransport(path: "/dev/ttyUSB0") }
        XCTAssertLinkError(.permissionDenied(port: device.devicePath, hint: hint)) { try TermiosTransport(path: device.devicePath) }
        XCTAssertLinkError(.permissionDenied(port: "/dev/ttyUSB0", hint: hint)) { try openPort("LSE0042") }
    }
}

/// The USB controller without the udev rule: its node is read-only, so libusb cannot open
/// it. Runs under the bridge with --deny-access and without CAP_DAC_OVERRIDE.
final class USBPermissionTests: XCTestCase {
    func testNoWriteAccessIsPermissionDeniedWithTheUdevRule() throws {
        _ = try USBBridge.current(.echo, accessDenied: true)
        try requireFilePermissionsApply()
        let denied = LinkError.permissionDenied(port: "usb 1209:4c53", hint: LibUSBStatus.permissionHint)
        XCTAssertLinkError(denied) { try USBBulkTransport() }
        XCTAssertLinkError(denied) { try openPort("usb:1209:4c53") }
        // Still listed (from sysfs), but its strings need an open: none.
        XCTAssertEqual(try USBBulkTransport.list().map(\.serial), [nil])
    }
}
