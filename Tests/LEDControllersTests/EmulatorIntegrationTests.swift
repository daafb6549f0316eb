import Foundation
import LEDLink
import XCTest
@testable import LEDControllers

/// The client against the real emulator on a real pseudo-terminal (TermiosTransport).
final class EmulatorIntegrationTests: XCTestCase {
    func testEveryCommandAgainstTheEmulator() async throws {
        let emulator = try startEmulator(smallWall + ["--seed", "7"])
        defer { emulator.stop() }
        let client = try termiosClient(emulator)

        let hello = try await client.hello()
        XCTAssertEqual(hello.version, 1)
        XCTAssertTrue(hello.capabilities.contains(.ledStatus))

        let identity = try await client.identify()
        XCTAssertEqual(identity.geometry, WallGeometry(cabinetColumns: 2, cabinetRows: 2, modulesX: 2, modulesY: 2,
                                                       moduleWidth: 16, moduleHeight: 8))
        XCTAssertFalse(identity.model.isEmpty)
        XCTAssertFalse(identity.serial.isEmpty)

        for cabinet in UInt16(0)..<4 {
            let info = try await client.cabinetInfo(cabinet)
            XCTAssertEqual(info.cabinet, cabinet)
            XCTAssertFalse(info.serial.isEmpty)
            let telemetry = try await client.telemetry(cabinet: cabinet)
            XCTAssertEqual(telemetry.cabinet, cabinet)
            XCTAssertTrue((4500...5500).contains(Int(telemetry.supplyMillivolts)), "\(telemetry)")
        }
        do {
            _ = try await client.cabinetInfo(4)
            XCTFail("cabinet 4 of 4 answered")
        } catch { XCTAssertEqual(error.status, .notFound) }

        let defaults: [ParameterID: Int32] = [.brightness: 80, .gamma: 220, .refreshRate: 3840, .scanMode: 16,
                                              .colourTemperature: 6500, .inputSource: 0]
        for (parameter, value) in defaults {
            let reading = try await client.parameter(parameter)
            XCTAssertEqual(reading.value, value, "\(parameter)")
        }
        let brightness = try await client.setParameter(.brightness, to: 42)
        XCTAssertEqual(brightness, 42)
        let reread = try await client.parameter(.brightness)
        XCTAssertEqual(reread.value, 42)
        do {
            _ = try await client.setParameter(.scanMode, to: 3)
            XCTFail("scan mode 3 accepted")
        } catch {
            XCTAssertEqual(error.status, .outOfRange)
            XCTAssertTrue(error.description.contains("1...32"), error.description)
        }
        do {
            _ = try await client.parameter(ParameterID(rawValue: 99))
            XCTFail("parameter 99 answered")
        } catch { XCTAssertEqual(error.status, .unknownParameter) }

        let shown = try await client.showPattern(.checkerboard, argument: 4)
        XCTAssertEqual(shown, PatternSelection(pattern: .checkerboard, argument: 4))
        // Argument 0 asks for the default; the device answers with the value in force.
        let defaultGrid = try await client.showPattern(.grid)
        XCTAssertEqual(defaultGrid, PatternSelection(pattern: .grid, argument: 8))
        let defaultCheckerboard = try await client.showPattern(.checkerboard)
        XCTAssertEqual(defaultCheckerboard, PatternSelection(pattern: .checkerboard, argument: 1))
        do {
            _ = try await client.showPattern(TestPattern(rawValue: 77))
            XCTFail("pattern 77 accepted")
        } catch { XCTAssertEqual(error.status, .badArgument) }

        let report = try await client.moduleTest(cabinet: 0)
        XCTAssertEqual(report.modules.count, 4)
        XCTAssertTrue(report.modules.allSatisfy(\.passed), "\(report)")

        let map = try await client.readWallStatus(identity: identity)
        XCTAssertEqual(map.cabinets.compactMap { $0?.count }, [512, 512, 512, 512])
        XCTAssertEqual(map.faults, [], "a wall without injected faults reads clean")

        _ = try await client.events()
        _ = try await client.clearEvents()
        let afterClear = try await client.events()
        XCTAssertEqual(afterClear, [])

        try await client.reboot()
        try await Task.sleep(for: .milliseconds(1100))
        let again = try await client.hello()
        XCTAssertEqual(again.version, 1)
        let brightnessAfterReboot = try await client.parameter(.brightness)
        XCTAssertTrue((0...100).contains(brightnessAfterReboot.value))
    }

    func testEveryInjectedLEDFaultIsFoundAtItsExactPlace() async throws {
        let faults = [
            "dead-led cabinet=0 x=10 y=5 channel=red",
            "stuck-led cabinet=1 x=3 y=12 channel=green",
            "dim-led cabinet=2 x=31 y=15 channel=blue level=40",
            "dead-row cabinet=3 y=2 x0=4 x1=6 channel=blue",
            "dead-column cabinet=3 x=20 y0=9 y1=10 channel=red",
            "dead-module cabinet=1 module=3",
            "chain-break cabinet=2 after=2",
        ]
        let emulator = try startEmulator(smallWall + faults.flatMap { ["--fault", $0] })
        defer { emulator.stop() }
        let client = try termiosClient(emulator)
        let map = try await client.readWallStatus()

        func located(_ cabinet: Int, _ x: Int, _ y: Int) -> LEDLocation {
            map.location(cabinet: cabinet, index: y * 32 + x)
        }
        var expected: [LEDFault] = [
            LEDFault(location: located(0, 10, 5), channel: .red, condition: .open),
            LEDFault(location: located(1, 3, 12), channel: .green, condition: .short),
            LEDFault(location: located(3, 4, 2), channel: .blue, condition: .open),
            LEDFault(location: located(3, 5, 2), channel: .blue, condition: .open),
            LEDFault(location: located(3, 6, 2), channel: .blue, condition: .open),
            LEDFault(location: located(3, 20, 9), channel: .red, condition: .open),
            LEDFault(location: located(3, 20, 10), channel: .red, condition: .open),
        ]
        // Cabinet 1 module 3 (bottom right) and cabinet 2 module 3 (after the break at 2): no data.
        for cabinet in [1, 2] {
            for y in 8..<16 { for x in 16..<32 { expected.append(LEDFault(location: located(cabinet, x, y), channel: nil, condition: .noData)) } }
        }
        // The dim LED sits in cabinet 2's module 3, behind the chain break: it reads as no data.
        let found = Set(map.faults)
        XCTAssertEqual(found.subtracting(expected), [], "faults found that were not injected")
        XCTAssertEqual(Set(expected).subtracting(found), [], "injected faults not found")
        XCTAssertEqual(located(3, 20, 9).wallX, 52)
        XCTAssertEqual(located(3, 20, 9).wallY, 25)
        XCTAssertEqual(located(3, 20, 9).module, 3)

        let modules = try await client.moduleTest(cabinet: 1)
        XCTAssertEqual(modules.modules.map(\.passed), [true, true, true, false])
        let chain = try await client.moduleTest(cabinet: 2)
        XCTAssertEqual(chain.modules.map { $0.checks.contains(.dataChainIntact) }, [true, true, true, false])
    }

    func testDimLEDIsWeakAndModuleFaultsShowInTheSelfTest() async throws {
        let faults = [
            "dim-led cabinet=2 x=31 y=15 channel=blue level=40",
            "missing-ic cabinet=0 module=1 ic=0",
            "calibration-mismatch cabinet=3 module=2",
            "cabinet-offline cabinet=1",
        ]
        let emulator = try startEmulator(smallWall + faults.flatMap { ["--fault", $0] })
        defer { emulator.stop() }
        let client = try termiosClient(emulator)
        let map = try await client.readWallStatus()
        // IC i drives channel i % 3 of 16 module columns (Firmware/core/device.c): IC 0 of
        // cabinet 0 module 1 (x 16..<32, y 0..<8) leaves every red channel there open.
        var expected = [LEDFault(location: map.location(cabinet: 2, index: 15 * 32 + 31), channel: .blue, condition: .weak)]
        for y in 0..<8 {
            for x in 16..<32 {
                expected.append(LEDFault(location: map.location(cabinet: 0, index: y * 32 + x), channel: .red, condition: .open))
            }
        }
        XCTAssertEqual(Set(map.faults), Set(expected))
        XCTAssertEqual(map.faults.count, expected.count)
        XCTAssertNil(map.cabinets[1])
        XCTAssertTrue(map.unreadableCabinets[1]?.contains("HARDWARE_FAULT") ?? false, "\(map.unreadableCabinets)")

        let missing = try await client.moduleTest(cabinet: 0)
        XCTAssertFalse(missing.modules[1].checks.contains(.driverICsPresent))
        XCTAssertEqual(Int(missing.modules[1].driverICsFound) + 1, Int(missing.modules[1].driverICsExpected))
        XCTAssertTrue(missing.modules[0].passed)
        let calibration = try await client.moduleTest(cabinet: 3)
        XCTAssertEqual(calibration.modules.map { $0.checks.contains(.calibrationMatches) }, [true, true, false, true])
    }

    func testEnvironmentFaultsShowInTelemetryAndEvents() async throws {
        let faults = [
            "over-temperature cabinet=0 celsius=85 after=0",
            "under-voltage cabinet=1 millivolts=4300 after=0",
            "fan-stall cabinet=3 after=0",
            "over-temperature cabinet=2 celsius=90 after=0.5",
        ]
        let emulator = try startEmulator(smallWall + faults.flatMap { ["--fault", $0] })
        defer { emulator.stop() }
        let client = try termiosClient(emulator)
        try await client.hello()
        try await Task.sleep(for: .milliseconds(300))
        let hot = try await client.telemetry(cabinet: 0)
        XCTAssertEqual(hot.temperatureDeciCelsius, 850)
        let low = try await client.telemetry(cabinet: 1)
        XCTAssertEqual(low.supplyMillivolts, 4300)
        let stalled = try await client.telemetry(cabinet: 3)
        XCTAssertEqual(stalled.fanRPM, 0)
        let events = try await client.events()
        let kinds = Set(events.map { "\($0.type) \($0.cabinet)" })
        XCTAssertTrue(kinds.isSuperset(of: ["over-temperature 0", "under-voltage 1", "fan stall 3"]), "\(events)")
        XCTAssertEqual(events.map(\.sequence), events.map(\.sequence).sorted())

        // Cabinet 2 overheats half a second in, while this host is connected: its EVENT frame
        // arrives unsolicited and waits in the client's queue.
        try await Task.sleep(for: .milliseconds(1600))
        _ = try await client.parameter(.brightness)
        let unsolicited = await client.takeUnsolicitedEvents()
        XCTAssertTrue(unsolicited.contains { $0.type == .overTemperature && $0.cabinet == 2 && $0.value == 900 },
                      "\(unsolicited)")
    }

    func testAFlakyLinkGivesOnlyCorrectAnswersOrClearErrors() async throws {
        let emulator = try startEmulator(smallWall + ["--seed", "3", "--fault", "flaky-link drop=0.05 corrupt=0.05"])
        defer { emulator.stop() }
        // About 1.3% of attempts get through whole (42 bytes at 90% each); ask until two
        // answers did, or 40 requests of 21 attempts each (all failing: p < 1e-4).
        let client = try termiosClient(emulator, retries: 20, attemptTimeout: .milliseconds(100))
        var correct = 0, failed = 0
        while correct < 2 && correct + failed < 40 {
            do {
                let reading = try await client.parameter(.refreshRate)
                XCTAssertEqual(reading, ParameterReading(parameter: .refreshRate, value: 3840, minimum: 60, maximum: 7680))
                correct += 1
            } catch {
                failed += 1
                XCTAssertTrue(error.description.contains(emulator.portPath), error.description)
                XCTAssertTrue(error.description.contains("GET_PARAM"), error.description)
            }
        }
        XCTAssertEqual(correct, 2, "retries should get answers through a 10% byte-error link (\(failed) requests failed)")
        let statistics = await client.statistics()
        XCTAssertGreaterThan(statistics.retries, 0)
    }

    func testALightlyNoisyLinkStillReadsTheExactWall() async throws {
        let emulator = try startEmulator(smallWall + ["--seed", "5", "--fault", "flaky-link drop=0.0005 corrupt=0.0005",
                                                      "--fault", "dead-led cabinet=3 x=1 y=1 channel=green"])
        defer { emulator.stop() }
        let client = try termiosClient(emulator, retries: 6, attemptTimeout: .milliseconds(200))
        let map = try await client.readWallStatus()
        XCTAssertEqual(map.faults, [LEDFault(location: map.location(cabinet: 3, index: 33), channel: .green, condition: .open)])
    }

    func testUnplugMidSessionGivesAClearErrorWithinTheTimeout() async throws {
        let emulator = try startEmulator(smallWall + ["--fault", "unplug-after seconds=0.5"])
        defer { emulator.stop() }
        let client = try termiosClient(emulator)
        try await client.hello()
        try await Task.sleep(for: .milliseconds(700))
        let start = ContinuousClock.now
        do {
            _ = try await client.readWallStatus()
            XCTFail("read a wall from an unplugged controller")
        } catch {
            XCTAssertTrue(error.description.contains(emulator.portPath), error.description)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3), "4 attempts of 500 ms at most")
    }

    func testKillingTheEmulatorMidRequestGivesAClearError() async throws {
        let emulator = try startEmulator(smallWall + ["--fault", "slow-response ms=300"])
        let client = try termiosClient(emulator)
        let killer = Task.detached {
            try await Task.sleep(for: .milliseconds(150))
            emulator.kill()
        }
        let start = ContinuousClock.now
        do {
            _ = try await client.identify()
            XCTFail("identify answered by a killed emulator")
        } catch {
            XCTAssertTrue(error.description.contains("IDENTIFY"), error.description)
            XCTAssertTrue(error.description.contains(emulator.portPath), error.description)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        try await killer.value
    }
}
