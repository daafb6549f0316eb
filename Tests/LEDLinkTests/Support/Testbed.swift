#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// The umockdev testbed this test process runs in (Tests/run-swift-tests starts it with
/// `umockdev-run`). Its fake /sys describes the devices; its /dev nodes are files and
/// links under `root`, which a test may point at a live PTY.
struct Testbed {
    let root: String

    /// The testbed, or a skip naming how these tests are meant to be run.
    static func current(file: StaticString = #filePath) throws -> Testbed {
        guard let root = ProcessInfo.processInfo.environment["UMOCKDEV_DIR"] else {
            throw XCTSkip("not inside a umockdev testbed: Tests/run-swift-tests runs this class under "
                          + "umockdev-run (see Docs/usb-and-serial.md)")
        }
        return Testbed(root: root)
    }

    /// Makes the testbed's `node` (e.g. /dev/ttyUSB0) a link to `target` (a PTY slave),
    /// atomically, as the emulator's `--link` does.
    func point(_ node: String, at target: String) throws {
        let link = root + node
        let temporary = link + ".new"
        unlink(temporary)
        guard symlink(target, temporary) == 0, rename(temporary, link) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }
}

/// A test class ran in the wrong testbed (a mistake in Tests/run-swift-tests): a failure.
struct TestbedMisconfigured: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Fails unless this process lacks CAP_DAC_OVERRIDE (Tests/run-swift-tests runs permission
/// tests under `setpriv --bounding-set=-dac_override,-dac_read_search`): as root with it,
/// every permission check passes and nothing would be tested.
func requireFilePermissionsApply() throws {
    let probe = NSTemporaryDirectory() + "ledsentry-permission-probe-\(getpid())"
    guard FileManager.default.createFile(atPath: probe, contents: Data([1]),
                                         attributes: [.posixPermissions: 0o444]) else {
        throw TestbedMisconfigured(message: "cannot create \(probe)")
    }
    defer { unlink(probe) }
    let fd = open(probe, O_RDWR)
    if fd >= 0 {
        close(fd)
        throw TestbedMisconfigured(message: "this process may write a read-only file (CAP_DAC_OVERRIDE): "
                                   + "run it under setpriv --bounding-set=-dac_override,-dac_read_search")
    }
}
