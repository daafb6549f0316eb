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

    /// The bridge, when this process runs under it in `mode` (with the device node
    /// writable unless `accessDenied`); a skip naming how these tests are run when it does not.
    static func current(_ mode: Mode, accessDenied: Bool = false) throws -> USBBridge {
        let environment = ProcessInfo.processInfo.environment
        guard let pidText = environment["LEDSENTRY_USB_BRIDGE_PID"], let pid = pid_t(pidText) else {
            throw XCTSkip("not inside the USB umockdev testbed: Tests/run-swift-tests runs this class under "
                          + "Tests/Support/umockdev/usb-bridge.py (see Docs/usb-and-serial.md)")
        }
        guard environment["LEDSENTRY_USB_BRIDGE_MODE"] == mode.rawValue else {
            throw TestbedMisconfigured(message: "the USB bridge serves \(environment["LEDSENTRY_USB_BRIDGE_MODE"] ?? "?"), "
                                + "this class needs --\(mode.rawValue)")
        }
        let access = accessDenied ? "denied" : "granted"
        guard environment["LEDSENTRY_USB_BRIDGE_ACCESS"] == access else {
            throw TestbedMisconfigured(message: "this class needs the USB bridge with access \(access)")
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
}
