import CLibUSB
import XCTest
@testable import LEDLink

/// libusb's codes map to distinct, actionable link errors.
final class LibUSBStatusTests: XCTestCase {
    func testRawValuesAreLibUSBs() {
        let pairs: [(LibUSBStatus, libusb_error)] = [
            (.io, LIBUSB_ERROR_IO), (.invalidParameter, LIBUSB_ERROR_INVALID_PARAM),
            (.access, LIBUSB_ERROR_ACCESS), (.noDevice, LIBUSB_ERROR_NO_DEVICE),
            (.notFound, LIBUSB_ERROR_NOT_FOUND), (.busy, LIBUSB_ERROR_BUSY),
            (.timeout, LIBUSB_ERROR_TIMEOUT), (.overflow, LIBUSB_ERROR_OVERFLOW),
            (.pipe, LIBUSB_ERROR_PIPE), (.interrupted, LIBUSB_ERROR_INTERRUPTED),
            (.noMemory, LIBUSB_ERROR_NO_MEM), (.notSupported, LIBUSB_ERROR_NOT_SUPPORTED),
            (.other, LIBUSB_ERROR_OTHER),
        ]
        XCTAssertEqual(pairs.count, LibUSBStatus.allCases.count)
        for (status, code) in pairs { XCTAssertEqual(status.rawValue, code.rawValue, "\(status)") }
    }

    func testPermissionBusyAndUnplugAreDistinct() {
        let port = "usb 1209:4c53"
        XCTAssertEqual(LibUSBStatus.access.linkError(port: port, operation: "open"),
                       .permissionDenied(port: port, hint: LibUSBStatus.permissionHint))
        XCTAssertTrue(LibUSBStatus.permissionHint.contains(#"ATTR{idVendor}=="1209""#))
        XCTAssertEqual(LibUSBStatus.busy.linkError(port: port, operation: "claim interface 0"), .busy(port: port))
        XCTAssertEqual(LibUSBStatus.noDevice.linkError(port: port, operation: "read"), .disconnected(port: port))
        XCTAssertEqual(LibUSBStatus.timeout.linkError(port: port, operation: "read"), .timedOut(port: port, operation: "read"))
        XCTAssertEqual(LibUSBStatus.pipe.linkError(port: port, operation: "write"),
                       .system(port: port, operation: "write", code: -9, message: "libusb: Pipe error"))
        XCTAssertEqual(Set(LibUSBStatus.allCases.map { "\($0.linkError(port: port, operation: "x"))" }).count,
                       LibUSBStatus.allCases.count, "every code reads differently")
    }

    func testUnknownCodeIsOtherAndSuccessPassesCounts() throws {
        XCTAssertEqual(try LibUSBStatus.check(12, port: "p", operation: "read"), 12)
        XCTAssertLinkError(.system(port: "p", operation: "read", code: -99, message: "libusb: Other error")) {
            try LibUSBStatus.check(-1234, port: "p", operation: "read")
        }
    }

    func testUSBSpecs() throws {
        XCTAssertNil(try USBPortSpec(parsing: "/dev/ttyUSB0"))
        XCTAssertEqual(try USBPortSpec(parsing: "usb"), USBPortSpec(vendorID: 0x1209, productID: 0x4C53, serial: nil))
        XCTAssertEqual(try USBPortSpec(parsing: "usb:0403:6001:A1"), USBPortSpec(vendorID: 0x0403, productID: 0x6001, serial: "A1"))
        XCTAssertLinkError(.invalidArgument("'usb:1209': expected usb:VID:PID[:SERIAL] with hex ids, e.g. usb:1209:4c53")) {
            try USBPortSpec(parsing: "usb:1209")
        }
    }
}
