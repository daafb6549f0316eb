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

/// Runs every command once through `client` against a fault-free emulator whose wall is
/// `geometry`, checking each answer; used over each transport (termios, libserialport, libusb).
func assertEveryCommandWorks(_ client: ControllerClient, geometry: WallGeometry,
                             file: StaticString = #filePath, line: UInt = #line) async throws {
    let hello = try await client.hello()
    XCTAssertEqual(hello.version, 1, file: file, line: line)
    let identity = try await client.identify()
    XCTAssertEqual(identity.geometry, geometry, file: file, line: line)
    for cabinet in 0..<UInt16(geometry.cabinetCount) {
        let info = try await client.cabinetInfo(cabinet)
        XCTAssertEqual(info.cabinet, cabinet, file: file, line: line)
        let telemetry = try await client.telemetry(cabinet: cabinet)
        XCTAssertEqual(telemetry.cabinet, cabinet, file: file, line: line)
        let modules = try await client.moduleTest(cabinet: cabinet)
        XCTAssertEqual(modules.modules.count, geometry.modulesPerCabinet, file: file, line: line)
        XCTAssertTrue(modules.modules.allSatisfy(\.passed), "\(modules)", file: file, line: line)
    }
    let set = try await client.setParameter(.colourTemperature, to: 5000)
    XCTAssertEqual(set, 5000, file: file, line: line)
    let reading = try await client.parameter(.colourTemperature)
    XCTAssertEqual(reading, ParameterReading(parameter: .colourTemperature, value: 5000, minimum: 2000, maximum: 10000),
                   file: file, line: line)
    let shown = try await client.showPattern(.walkingPixel, argument: 3)
    XCTAssertEqual(shown, PatternSelection(pattern: .walkingPixel, argument: 3), file: file, line: line)
    let map = try await client.readWallStatus(identity: identity)
    XCTAssertEqual(map.cabinets.compactMap { $0?.count }, Array(repeating: geometry.ledsPerCabinet, count: geometry.cabinetCount),
                   file: file, line: line)
    XCTAssertEqual(map.faults, [], file: file, line: line)
    let events = try await client.events()
    XCTAssertTrue(events.contains { $0.type == .powerLoss }, "the boot's power-loss event: \(events)", file: file, line: line)
    let cleared = try await client.clearEvents()
    XCTAssertEqual(cleared, events.count, file: file, line: line)
}
