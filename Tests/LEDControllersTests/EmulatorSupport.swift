import Foundation
import LEDLink
import XCTest
@testable import LEDControllers

/// The repository root, found from this file's path (Tests/LEDControllersTests/...).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// Starts the real emulator (Firmware/build/ledsentry-emu) with `arguments`; fails the
/// test with the reason when it is not built.
func startEmulator(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> EmulatorProcess {
    do {
        let executable = try EmulatorProcess.locate(searchFrom: [repositoryRoot.path])
        return try EmulatorProcess(executable: executable, arguments: arguments)
    } catch {
        XCTFail("\(error)", file: file, line: line)
        throw error
    }
}

/// A client on the emulator's PTY through the plain termios backend.
func termiosClient(_ emulator: EmulatorProcess, retries: Int = 3,
                   attemptTimeout: Duration? = nil) throws -> ControllerClient {
    ControllerClient(transport: try TermiosTransport(path: emulator.portPath), retries: retries,
                     attemptTimeout: attemptTimeout)
}

/// A small wall keeps full reads fast: 2x2 cabinets of 2x2 modules of 16x8 LEDs.
let smallWall = ["--cabinets", "2x2", "--modules", "2x2", "--module-size", "16x8"]
