import Foundation
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
    private let output = Pipe()

    init(drivers: Int, seed: Int = 1, faults: [String] = [], extra: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            throw XCTSkip("widget emulator not built: run `make -C Firmware` (\(Self.executable.path))")
        }
        process.executableURL = Self.executable
        process.arguments = ["--mode", "widget", "--drivers", String(drivers), "--seed", String(seed)]
            + faults.flatMap { ["--fault", $0] } + extra
        process.standardOutput = output
        try process.run()
        // The first line is "port: /dev/pts/N"; wait for it, but not forever.
        let handle = output.fileHandleForReading
        var text = ""
        let deadline = Date().addingTimeInterval(5)
        while !text.contains("\n"), Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("port: ") else {
            process.terminate()
            throw LightingError.invalidArgument("emulator did not print its port (got \(text.debugDescription))")
        }
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
