import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import LEDLighting

/// The independent check: OLA's olad (usbserial plugin) drives our emulated widget over a PTY
/// and OLA's own tools discover, read and write our emulated drivers. Needs the Debian `ola`
/// package and root (olad refuses root, so it runs as the package's `olad` user).
/// Its RPC port 127.0.0.1:9010 is fixed, so runs take a machine-wide lock and fail, naming
/// the cause, if some other olad holds the port.
final class OLAInteropTests: XCTestCase {
    private var work: URL!
    private var olad: Process?
    private var emulator: WidgetEmulator?
    private var lockDescriptor: Int32 = -1

    override func setUpWithError() throws {
        for tool in ["/usr/bin/olad", "/usr/bin/ola_rdm_discover", "/usr/bin/ola_rdm_get", "/usr/bin/ola_rdm_set",
                     "/usr/bin/ola_patch", "/usr/bin/ola_dev_info", "/usr/sbin/runuser"] {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw XCTSkip("\(tool) missing: install the Debian packages ola and util-linux (make test-deps)")
            }
        }
        guard getuid() == 0, getpwnam("olad") != nil else {
            throw XCTSkip("needs root to start olad as the `olad` user (the ola package creates it)")
        }
        try takeMachineLock()
        work = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ledsentry-ola-\(getpid())")
        try? FileManager.default.removeItem(at: work)
        for dir in ["", "dev", "conf"] {
            try FileManager.default.createDirectory(at: work.appendingPathComponent(dir), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
        }
    }

    override func tearDown() {
        if let olad, olad.isRunning {
            olad.terminate()
            waitForExit(olad, seconds: 10)
        }
        emulator?.stop()
        if let work { try? FileManager.default.removeItem(at: work) }
        if lockDescriptor >= 0 { close(lockDescriptor) }
    }

    func testOLADiscoversReadsAndWritesTheEmulatedDrivers() throws {
        // four drivers: healthy, over-temperature, ACK_TIMER, ACK_OVERFLOW; two share a branch to the last bit
        let link = work.appendingPathComponent("dev/ttyUSBledsentry").path
        let emulator = try WidgetEmulator(drivers: 4, seed: 5,
                                          faults: ["overtemp:1", "ack-timer:2", "ack-overflow:3", "collide:0"],
                                          extra: ["--link", link, "--list"])
        self.emulator = emulator
        let expected = try emulator.listedUIDs()
        XCTAssertEqual(expected.count, 4)
        XCTAssertEqual(chmod(emulator.portPath, 0o666), 0, "let the olad user open the PTY")
        try startOLAD()
        let device = try waitForDevice()
        try ola(["ola_patch", "-d", device, "-p", "0", "-u", "1"])

        // discovery: OLA finds exactly our drivers, collisions included
        // olad starts its own discovery when the port is patched; a full discovery asked for
        // while that one runs can come back empty, so ask again (bounded) until it answers.
        var discovered: [RDMUID] = []
        let discoveryDeadline = Date().addingTimeInterval(15)
        repeat {
            discovered = try ola(["ola_rdm_discover", "-u", "1", "--full"]).split(separator: "\n")
                .compactMap { RDMUID(string: String($0)) }
            if !discovered.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.5)
        } while Date() < discoveryDeadline
        XCTAssertEqual(discovered.sorted(), expected.sorted())

        let healthy = expected[0], hot = expected[1], slow = expected[2], chunked = expected[3]
        // DEVICE_INFO and friends decoded by OLA's own PID store
        let info = try get(healthy, "device_info")
        XCTAssertTrue(info.contains("Protocol Major: 1"), info)
        XCTAssertTrue(info.contains("Product Category: Dimmer DC LED"), info)
        XCTAssertTrue(info.contains("Sensor Count: 3"), info)
        XCTAssertEqual(try get(healthy, "manufacturer_label").trimmed, "LEDSentry Lighting")
        XCTAssertTrue(try get(healthy, "sensor_definition", "0").contains("Name: Heatsink temperature"))
        XCTAssertTrue(try get(healthy, "sensor_definition", "1").contains("Prefix: Milli"))
        XCTAssertTrue(try get(healthy, "sensor_value", "2").contains("Sensor Number: 2"))
        XCTAssertTrue(try get(healthy, "self_test_description", "1").contains("LED string continuity"))
        XCTAssertTrue(try get(healthy, "lamp_state").contains("State: On"))
        XCTAssertTrue(try get(healthy, "dmx_personality_description", "2").contains("Slots Required: 8"))
        for pid in ["device_hours", "lamp_hours", "lamp_strikes", "device_power_cycles", "identify_device",
                    "perform_selftest", "software_version_label", "device_model_description", "dmx_personality"] {
            XCTAssertFalse(try get(healthy, pid).isEmpty, pid)
        }

        // SET, read back; a value out of range is NACKed with the E1.20 reason
        try ola(["ola_rdm_set", "-u", "1", "--uid", healthy.description.lowercased(), "device_label", "OLA was here"])
        XCTAssertEqual(try get(healthy, "device_label").trimmed, "OLA was here")
        try ola(["ola_rdm_set", "-u", "1", "--uid", healthy.description.lowercased(), "dmx_start_address", "42"])
        XCTAssertTrue(try get(healthy, "dmx_start_address").contains("DMX Address: 42"))
        let refused = try ola(["ola_rdm_set", "-u", "1", "--uid", healthy.description.lowercased(), "dmx_start_address", "600"])
        XCTAssertTrue(refused.contains("Data out of range"), refused)
        let noSubDevice = try ola(["ola_rdm_get", "-u", "1", "--uid", healthy.description.lowercased(), "-d", "5", "device_info"],
                                  allowFailure: true)
        XCTAssertTrue(noSubDevice.contains("Sub device out of range"), noSubDevice)
        let badPersonality = try ola(["ola_rdm_set", "-u", "1", "--uid", healthy.description.lowercased(), "dmx_personality", "9"],
                                     allowFailure: true)
        XCTAssertTrue(badPersonality.contains("Data out of range"), badPersonality)

        // faults as OLA sees them
        XCTAssertTrue(try get(hot, "status_messages", "Error").contains("over temp"), "over-temperature status")
        let timer = try get(slow, "device_hours")
        XCTAssertTrue(timer.contains("Messages remaining: 1"), "ACK_TIMER leaves a queued message: \(timer)")
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertTrue(try get(slow, "queued_message", "Advisory").contains("Hours:"), "the queued DEVICE_HOURS reply")
        let supported = try get(chunked, "supported_parameters")
        XCTAssertTrue(supported.contains("0x1021 (self_test_description)"), "ACK_OVERFLOW reassembled by OLA: \(supported)")
        XCTAssertEqual(try get(chunked, "device_model_description").trimmed, "LEDSentry LD-100 1ch LED driver") // driver 3: the 1ch model
    }

    // MARK: helpers

    private func get(_ uid: RDMUID, _ pid: String, _ value: String? = nil) throws -> String {
        try ola(["ola_rdm_get", "-u", "1", "--uid", uid.description.lowercased(), pid] + (value.map { [$0] } ?? []))
    }

    @discardableResult
    private func ola(_ arguments: [String], allowFailure: Bool = false) throws -> String {
        let result = try runTool(arguments, seconds: 20)
        if !allowFailure && result.status != 0 {
            XCTFail("\(arguments.joined(separator: " ")) exited \(result.status): \(result.output)\n\(oladLog())")
        }
        return result.output
    }

    private func runTool(_ arguments: [String], seconds: Double) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/" + arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        killAfter(process, seconds: seconds) // a hung client (olad gone) must not hang the test
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        waitForExit(process, seconds: seconds)
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func waitForExit(_ process: Process, seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    private func startOLAD() throws {
        let conf = work.appendingPathComponent("conf")
        let usbserial = "device_dir = \(work.appendingPathComponent("dev").path)\ndevice_prefix = ttyUSB\nenabled = true\n"
        try usbserial.write(to: conf.appendingPathComponent("ola-usbserial.conf"), atomically: true, encoding: .utf8)
        // every other plugin off: no network traffic, no probing of real devices
        for plugin in ["artnet", "dummy", "e131", "espnet", "ftdidmx", "gpio", "karate", "kinet", "milinst", "opendmx",
                       "openpixelcontrol", "osc", "pathport", "renard", "sandnet", "shownet", "spi", "stageprofi",
                       "uartdmx", "usbdmx"] {
            try "enabled = false\n".write(to: conf.appendingPathComponent("ola-\(plugin).conf"), atomically: true, encoding: .utf8)
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: conf.path) {
            chmod(conf.appendingPathComponent(file).path, 0o666)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        process.arguments = ["-u", "olad", "--", "olad", "-c", conf.path, "--no-http", "--no-register-with-dns-sd", "-l", "3"]
        let log = work.appendingPathComponent("olad.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        olad = process
    }

    private func oladLog() -> String {
        let text = (try? String(contentsOf: work.appendingPathComponent("olad.log"), encoding: .utf8)) ?? ""
        return "olad log (last lines):\n" + text.split(separator: "\n").filter { !$0.contains("Avahi") }.suffix(30).joined(separator: "\n")
    }

    /// Waits for olad to detect the widget; returns its device number.
    private func waitForDevice() throws -> String {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let olad, !olad.isRunning { break }
            let listing = (try? runTool(["ola_dev_info"], seconds: 5).output) ?? ""
            for line in listing.split(separator: "\n") where line.contains("LEDSentry RDM widget") {
                if let number = line.split(separator: ":").first?.split(separator: " ").last { return String(number) }
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        throw XCTSkip("olad never reported the widget\n\(oladLog())").failing()
    }

    /// One olad per machine: serialize runs, and wait a while for a foreign olad to leave.
    private func takeMachineLock() throws {
        lockDescriptor = open("/tmp/ledsentry-olad-9010.lock", O_CREAT | O_RDWR, 0o666)
        guard lockDescriptor >= 0 else { throw LightingError.invalidArgument("cannot open the olad lock file") }
        let deadline = Date().addingTimeInterval(180)
        while flock(lockDescriptor, LOCK_EX | LOCK_NB) != 0 {
            guard Date() < deadline else { XCTFail("another LEDSentry OLA test held the olad lock for 3 minutes"); return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let portDeadline = Date().addingTimeInterval(60)
        while rpcPortInUse() {
            guard Date() < portDeadline else {
                throw LightingError.invalidArgument("127.0.0.1:9010 is held by an olad this test did not start; stop it (one olad per machine)")
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
    }

    private func rpcPortInUse() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(9010).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// Kills `process` if it is still running after `seconds`.
func killAfter(_ process: Process, seconds: Double) {
    let pid = process.processIdentifier
    DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
        if process.isRunning { kill(pid, SIGKILL) }
    }
}

extension XCTSkip {
    /// A skip that must not pass silently: turned into a failure with the same words.
    func failing() -> any Error { LightingError.invalidArgument(message ?? "skipped") }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

extension WidgetEmulator {
    /// The UIDs printed by `--list` after the port line, in driver order.
    func listedUIDs() throws -> [RDMUID] {
        var text = pendingOutput
        let deadline = Date().addingTimeInterval(5)
        while true {
            let uids = text.split(separator: "\n").compactMap { line in
                line.split(separator: " ").dropFirst(2).first.flatMap { RDMUID(string: String($0)) }
            }
            if uids.count == driverCount { return uids }
            guard let more = Self.read(outputHandle, until: deadline) else { break }
            text += more
        }
        throw LightingError.invalidArgument("the emulator did not list its drivers: \(text)")
    }
}
