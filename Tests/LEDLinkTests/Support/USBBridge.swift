#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

/// The process serving the testbed's USB controller (Tests/Support/umockdev/usb-bridge.py),
/// which runs this test process inside its umockdev testbed.
struct USBBridge {
    enum Mode: String { case echo, emulator }

    let pid: pid_t

    /// The bridge, when this process runs under it in `mode`; a skip naming how these
    /// tests are run when it does not.
    static func current(_ mode: Mode) throws -> USBBridge {
        let environment = ProcessInfo.processInfo.environment
        guard let pidText = environment["LEDSENTRY_USB_BRIDGE_PID"], let pid = pid_t(pidText) else {
            throw XCTSkip("not inside the USB umockdev testbed: Tests/run-swift-tests runs this class under "
                          + "Tests/Support/umockdev/usb-bridge.py (see Docs/usb-and-serial.md)")
        }
        guard environment["LEDSENTRY_USB_BRIDGE_MODE"] == mode.rawValue else {
            throw Misconfigured(message: "the USB bridge serves \(environment["LEDSENTRY_USB_BRIDGE_MODE"] ?? "?"), "
                                + "this class needs --\(mode.rawValue)")
        }
        return USBBridge(pid: pid)
    }

    /// The device goes away: URBs in flight end, later calls fail, as after a real unplug.
    func unplug() { kill(pid, SIGUSR1) }
    /// And comes back (the next open finds it again).
    func plugIn() {
        kill(pid, SIGUSR2)
        usleep(50_000)  // the bridge handles the signal on its own thread
    }

    struct Misconfigured: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
