import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import LEDLink
@testable import LEDLighting

/// The firmware's widget emulator as a child process serving a PTY.
final class WidgetEmulator {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The firmware emulator; `--mode widget` selects the USB-Pro widget.
    static let executable = repositoryRoot.appendingPathComponent("Firmware/build/ledsentry-emu")

    let process = Process()
    let portPath: String
    let driverCount: Int
    private let output = Pipe()
    var outputHandle: FileHandle { output.fileHandleForReading }
    /// Output after the port line not yet consumed (the `--list` lines).
    var pendingOutput = ""

    /// Reads what is available by `deadline` without blocking past it; nil at the deadline or EOF.
    static func read(_ handle: FileHandle, until deadline: Date) -> String? {
        var descriptor = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
        let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
        guard poll(&descriptor, 1, left) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = Glibc.read(handle.fileDescriptor, &buffer, buffer.count)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    init(drivers: Int, seed: Int = 1, faults: [String] = [], extra: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            throw XCTSkip("widget emulator not built: run `make -C Firmware` (\(Self.executable.path))")
        }
        driverCount = drivers
        process.executableURL = Self.executable
        process.arguments = ["--mode", "widget", "--drivers", String(drivers), "--seed", String(seed)]
            + faults.flatMap { ["--fault", $0] } + extra
        process.standardOutput = output
        try process.run()
        // The first line is "port: /dev/pts/N"; wait for it, but not forever.
        var text = ""
        let deadline = Date().addingTimeInterval(5)
        while !text.contains("\n"), let chunk = Self.read(output.fileHandleForReading, until: deadline) {
            text += chunk
        }
        guard let newline = text.firstIndex(of: "\n"), text.hasPrefix("port: ") else {
            process.terminate()
            throw LightingError.invalidArgument("emulator did not print its port (got \(text.debugDescription))")
        }
        let line = text[..<newline]
        pendingOutput = String(text[text.index(after: newline)...])
        portPath = String(line.dropFirst("port: ".count))
    }

    /// A controller on a fresh connection to the emulated widget.
    func connect(replyTimeout: Duration = .milliseconds(300)) throws -> (USBProWidget, RDMController) {
        let widget = USBProWidget(transport: try TermiosTransport(path: portPath), replyTimeout: replyTimeout)
        try widget.open()
        return (widget, RDMController(line: widget))
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
