import Diagnostics
import Foundation
import LEDControllers
import LEDLink
import Synchronization
import XCTest

/// The repository root, found from this file's path (Tests/DiagnosticsTests/...).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// The demo's wall: 2x2 cabinets of 2x2 modules of 32x16 LEDs (128x64 LEDs).
let inspectWall = ["--cabinets", "2x2", "--modules", "2x2", "--module-size", "32x16"]

/// One fault of each kind, in cabinet coordinates (the same preset `ledsentry demo` uses).
let inspectFaults = [
    "dead-led cabinet=0 x=50 y=5",
    "dead-led cabinet=3 x=20 y=3 channel=red",
    "stuck-led cabinet=0 x=60 y=10 channel=green",
    "dim-led cabinet=3 x=10 y=8 level=45",
    "dead-row cabinet=1 y=12",
    "dead-module cabinet=2 module=0",
    "chain-break cabinet=3 after=1",
    "missing-ic cabinet=0 module=1 ic=2",
    "calibration-mismatch cabinet=3 module=0",
    "over-temperature cabinet=0 celsius=85",
]

/// A fresh directory under the system's temporary directory, removed by the test's teardown.
func temporaryDirectory(_ test: XCTestCase, _ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ledsentry-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Starts the real emulator with the preset faults and `--frame-out` into `directory`.
func startInspectEmulator(frameFile: URL, faults: [String] = inspectFaults) throws -> EmulatorProcess {
    let executable = try EmulatorProcess.locate(searchFrom: [repositoryRoot.path])
    return try EmulatorProcess(executable: executable,
                               arguments: ["--seed", "42"] + inspectWall + faults.flatMap { ["--fault", $0] }
                                   + ["--frame-out", frameFile.path], quiet: true)
}

/// The built `ledsentry`, run as a user would.
struct CLIRun {
    var status: Int32
    var stdout: String
    var stderr: String

    static var binary: String {
        get throws {
            for candidate in [".build/release/ledsentry", ".build/x86_64-unknown-linux-gnu/release/ledsentry", ".build/debug/ledsentry"] {
                let path = repositoryRoot.appendingPathComponent(candidate).path
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            XCTFail("ledsentry is not built: run `swift build -c release -Xswiftc -enable-testing` first")
            throw CocoaError(.fileNoSuchFile)
        }
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errorData = Mutex<Data>(Data())
        let reader = Thread { errorData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return CLIRun(status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
                      stderr: errorData.withLock { String(decoding: $0, as: UTF8.self) })
    }
}
