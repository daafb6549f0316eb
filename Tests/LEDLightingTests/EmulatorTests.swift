import XCTest
import LEDLink
@testable import LEDLighting

/// LEDLighting against the firmware's emulated widget and drivers over a real PTY.
final class EmulatorTests: XCTestCase {
    func testWidgetIdentifiesItself() throws {
        let emulator = try WidgetEmulator(drivers: 1, extra: ["--serial", "0x20260001"])
        let (widget, _) = try emulator.connect()
        XCTAssertEqual(try widget.serialNumber(), 0x2026_0001)
        let parameters = try widget.parameters()
        XCTAssertEqual(parameters.firmware, "4.15")
        XCTAssertTrue(parameters.supportsRDM)
        XCTAssertNoThrow(try widget.sendDMX([255, 0, 128, 64]))
        XCTAssertThrowsError(try widget.sendDMX([UInt8](repeating: 0, count: 513)))
    }

    func testDiscoveryOnOneTwoAndThirtyTwoDrivers() throws {
        for count in [1, 2, 32] {
            let emulator = try WidgetEmulator(drivers: count, seed: count, faults: count > 1 ? ["collide:1"] : [])
            let (_, controller) = try emulator.connect()
            let report = try RDMDiscovery(controller: controller).run()
            XCTAssertEqual(report.uids.count, count, "\(count) drivers")
            XCTAssertEqual(Set(report.uids).count, count)
            if count > 1 { XCTAssertGreaterThanOrEqual(report.collisions, 40, "adjacent UIDs collide to the last bit") }
            // every UID found answers DEVICE_INFO: discovery found real drivers, not phantoms
            for uid in report.uids { XCTAssertNoThrow(try controller.get(uid, .deviceInfo)) }
        }
    }

    func testEmptyLine() throws {
        let emulator = try WidgetEmulator(drivers: 0)
        let (_, controller) = try emulator.connect()
        let report = try RDMDiscovery(controller: controller).run()
        XCTAssertEqual(report.uids, [])
        XCTAssertEqual(report.branches, 1)
        let nobody = RDMUID(manufacturer: 0x7FF0, device: 5)
        XCTAssertThrowsError(try controller.get(nobody, .deviceInfo)) { error in
            XCTAssertEqual(error as? LightingError, .noResponse(uid: nobody, parameter: .deviceInfo))
        }
    }

    private func oneDriver(_ faults: [String] = [], seed: Int = 1) throws -> (WidgetEmulator, RDMController, RDMUID) {
        let emulator = try WidgetEmulator(drivers: 1, seed: seed, faults: faults)
        let (_, controller) = try emulator.connect()
        let uid = try XCTUnwrap(try RDMDiscovery(controller: controller).run().uids.first)
        return (emulator, controller, uid)
    }

    func testEveryListedParameter() throws {
        let (emulator, c, uid) = try oneDriver()
        defer { emulator.stop() }
        let info = try DeviceInfo(parsing: c.get(uid, .deviceInfo).data)
        XCTAssertEqual(info.protocolVersion, 0x0100)
        XCTAssertEqual(info.sensorCount, 3)
        XCTAssertEqual(String(decoding: try c.get(uid, .deviceModelDescription).data, as: UTF8.self), "LEDSentry LD-400 4ch LED driver")
        XCTAssertEqual(String(decoding: try c.get(uid, .manufacturerLabel).data, as: UTF8.self), "LEDSentry Lighting")
        XCTAssertEqual(String(decoding: try c.get(uid, .softwareVersionLabel).data, as: UTF8.self), "1.2.0")
        try c.set(uid, .deviceLabel, data: Array("Truss 3 wash".utf8))
        XCTAssertEqual(String(decoding: try c.get(uid, .deviceLabel).data, as: UTF8.self), "Truss 3 wash")

        let supported = try c.get(uid, .supportedParameters).data
        let pids = Set(stride(from: 0, to: supported.count, by: 2).map { UInt16(bigEndian: supported, at: $0) })
        for pid: RDMParameter in [.statusMessages, .sensorValue, .lampHours, .performSelfTest, .queuedMessage] {
            XCTAssertTrue(pids.contains(pid.rawValue), "\(pid)")
        }
        XCTAssertFalse(pids.contains(RDMParameter.deviceInfo.rawValue), "required PIDs are not listed")

        try c.set(uid, .dmxStartAddress, data: [0x01, 0x2C])
        XCTAssertEqual(try c.get(uid, .dmxStartAddress).data, [0x01, 0x2C])
        try c.set(uid, .dmxPersonality, data: [2])
        XCTAssertEqual(try c.get(uid, .dmxPersonality).data, [2, 3])
        XCTAssertEqual(try DeviceInfo(parsing: c.get(uid, .deviceInfo).data).footprint, 8)
        XCTAssertEqual(try NumberedDescription(personality: c.get(uid, .dmxPersonalityDescription, data: [2]).data).footprint, 8)

        for number: UInt8 in 0..<3 {
            let definition = try SensorDefinition(parsing: c.get(uid, .sensorDefinition, data: [number]).data)
            let value = try SensorValue(parsing: c.get(uid, .sensorValue, data: [number]).data)
            XCTAssertEqual(value.number, number)
            XCTAssertTrue(definition.isNormal(value.present), "\(definition.description) \(value.present)")
        }
        XCTAssertEqual(try c.set(uid, .sensorValue, data: [0xFF]).data.first, 0xFF)

        for counter: RDMParameter in [.deviceHours, .lampHours, .lampStrikes, .devicePowerCycles] {
            XCTAssertEqual(try c.get(uid, counter).data.count, 4, "\(counter)")
        }
        try c.set(uid, .lampHours, data: [0, 0, 0, 9])
        XCTAssertEqual(try c.get(uid, .lampHours).data, [0, 0, 0, 9])
        XCTAssertEqual(try c.get(uid, .lampState).data, [1])
        try c.set(uid, .lampState, data: [3])
        XCTAssertEqual(try c.get(uid, .lampState).data, [3])

        XCTAssertEqual(try c.get(uid, .statusMessages, data: [RDMStatusType.advisory.rawValue]).data, [])
        XCTAssertEqual(try c.get(uid, .queuedMessage, data: [RDMStatusType.error.rawValue]).data, [])
        XCTAssertEqual(try NumberedDescription(selfTest: c.get(uid, .selfTestDescription, data: [1]).data).description, "LED string continuity")
        XCTAssertEqual(try c.get(uid, .performSelfTest).data, [0])
        try c.set(uid, .identifyDevice, data: [1])
        XCTAssertEqual(try c.get(uid, .identifyDevice).data, [1])
        let cycles = UInt32(bigEndian: try c.get(uid, .devicePowerCycles).data, at: 0)
        try c.set(uid, .resetDevice, data: [0xFF])
        XCTAssertEqual(try c.get(uid, .identifyDevice).data, [0], "a reset ends identify")
        XCTAssertEqual(UInt32(bigEndian: try c.get(uid, .devicePowerCycles).data, at: 0), cycles + 1)

        let inspector = LightingInspector(controller: c)
        let identity = try inspector.identity(uid)
        XCTAssertEqual(identity.label, "Truss 3 wash")
        let result = try inspector.selfTest(uid, test: 1)
        XCTAssertEqual(result.passed, true)
    }

    func testNackReasons() throws {
        let (emulator, c, uid) = try oneDriver()
        defer { emulator.stop() }
        func reason(_ body: () throws -> Void) -> RDMNackReason? {
            do { try body() } catch LightingError.nacked(_, _, let reason) { return reason } catch { XCTFail("\(error)") }
            return nil
        }
        XCTAssertEqual(reason { _ = try c.get(uid, RDMParameter(rawValue: 0x7FE0)) }, .unknownPID)
        XCTAssertEqual(reason { _ = try c.get(uid, .deviceInfo, data: [1]) }, .formatError)
        XCTAssertEqual(reason { try c.set(uid, .deviceInfo) }, .unsupportedCommandClass)
        XCTAssertEqual(reason { _ = try c.get(uid, .resetDevice) }, .unsupportedCommandClass)
        XCTAssertEqual(reason { try c.set(uid, .dmxStartAddress, data: [0x02, 0x01]) }, .dataOutOfRange)
        XCTAssertEqual(reason { try c.set(uid, .dmxStartAddress, data: [0x01]) }, .formatError)
        XCTAssertEqual(reason { _ = try c.get(uid, .sensorValue, data: [7]) }, .dataOutOfRange)
        XCTAssertEqual(reason { _ = try c.get(uid, .deviceInfo, subDevice: 4) }, .subDeviceOutOfRange)
        XCTAssertEqual(reason { _ = try c.get(uid, .deviceInfo, subDevice: 0xFFFF) }, .subDeviceOutOfRange)
        XCTAssertEqual(reason { try c.set(uid, .performSelfTest, data: [9]) }, .dataOutOfRange)
        XCTAssertEqual(reason { try c.set(uid, .deviceLabel, data: [UInt8](repeating: 65, count: 33)) }, .formatError)
        // a broadcast SET is acted on without a reply
        try c.set(.allDevices, .identifyDevice, data: [1])
        XCTAssertEqual(try c.get(uid, .identifyDevice).data, [1])
        XCTAssertThrowsError(try c.get(.allDevices, .deviceInfo))
    }

    func testAckTimerIsFollowedThroughQueuedMessage() throws {
        let (emulator, c, uid) = try oneDriver(["ack-timer:0"])
        defer { emulator.stop() }
        let response = try c.get(uid, .sensorValue, data: [1])
        XCTAssertTrue(response.wasQueued)
        XCTAssertEqual(try SensorValue(parsing: response.data).number, 1)
        XCTAssertEqual(response.messageCount, 0)
        XCTAssertFalse(try c.get(uid, .deviceInfo).wasQueued)
    }

    func testAckOverflowIsReassembled() throws {
        let (emulator, c, uid) = try oneDriver(["ack-overflow:0"])
        defer { emulator.stop() }
        let response = try c.get(uid, .supportedParameters)
        XCTAssertEqual(response.data.count, 34)
        XCTAssertEqual(response.pieces, 3)
        XCTAssertEqual(try DeviceInfo(parsing: c.get(uid, .deviceInfo).data).sensorCount, 3)
        let model = try c.get(uid, .deviceModelDescription)
        XCTAssertEqual(String(decoding: model.data, as: UTF8.self), "LEDSentry LD-400 4ch LED driver")
        XCTAssertGreaterThan(model.pieces, 1)
    }

    func testInjectedFaultsBecomeIssues() throws {
        let emulator = try WidgetEmulator(drivers: 4, seed: 9,
                                          faults: ["sensor:0", "overtemp:1", "selftest:2", "lamp:3"])
        let (_, c) = try emulator.connect()
        let inspector = LightingInspector(controller: c)
        let uids = try RDMDiscovery(controller: c).run().uids
        XCTAssertEqual(uids.count, 4)
        var kinds: [LightingIssue.Kind: Int] = [:]
        for uid in uids {
            var issues = LightingRules.issues(uid: uid, sensors: try inspector.sensors(uid))
            issues += LightingRules.issues(status: try inspector.status(uid))
            issues += LightingRules.issues(selfTest: try inspector.selfTest(uid, test: 1))
            for issue in issues { kinds[issue.kind, default: 0] += 1 }
        }
        XCTAssertEqual(kinds[.sensorOutOfRange], 1)       // output current 0 mA on driver 0
        XCTAssertEqual(kinds[.overTemperature], 2)        // the reading and the STS_OVERTEMP message
        XCTAssertEqual(kinds[.selfTestFailed], 1)
        XCTAssertEqual(kinds[.lampFailure], 2)            // LAMP_STATE error and STS_LAMP_DOUSED
    }

    func testCorruptedRepliesAreRetried() throws {
        let (emulator, c, uid) = try oneDriver(["corrupt:0"], seed: 4)
        defer { emulator.stop() }
        c.retries = 6
        var retried = 0
        for _ in 0..<20 {
            let response = try c.get(uid, .deviceInfo)
            XCTAssertEqual(response.data.count, 19)
            retried += response.retries
        }
        XCTAssertGreaterThan(retried, 0, "some replies were damaged and sent again")
    }

    func testDriverVanishingMidDiscovery() throws {
        let emulator = try WidgetEmulator(drivers: 6, seed: 2, faults: ["vanish:3@3"])
        let (_, c) = try emulator.connect()
        let started = ContinuousClock.now
        let report = try RDMDiscovery(controller: c).run()
        XCTAssertEqual(report.uids.count, 5)
        XCTAssertLessThan(started.duration(to: .now), .seconds(10))
    }

    func testWidgetResetMidSession() throws {
        let emulator = try WidgetEmulator(drivers: 3, seed: 5, faults: ["widget-reset@12"])
        let (_, c) = try emulator.connect()
        let report = try RDMDiscovery(controller: c).run()
        XCTAssertEqual(report.uids.count, 3)
        for uid in report.uids { XCTAssertNoThrow(try c.get(uid, .deviceInfo)) }
    }

    func testWidgetGoingAwayIsALinkErrorNotAHang() throws {
        let emulator = try WidgetEmulator(drivers: 1)
        let (_, c) = try emulator.connect()
        let uid = try XCTUnwrap(try RDMDiscovery(controller: c).run().uids.first)
        emulator.stop()
        let started = ContinuousClock.now
        XCTAssertThrowsError(try c.get(uid, .deviceInfo)) { error in
            guard case .link? = error as? LightingError else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(started.duration(to: .now), .seconds(3))
    }

    func testSomethingThatIsNotAWidget() throws {
        // a PTY whose other end never answers: open() fails with a clear error
        let emulator = try WidgetEmulator(drivers: 1)
        emulator.process.suspend()
        defer { emulator.process.resume(); emulator.stop() }
        let widget = USBProWidget(transport: try TermiosTransport(path: emulator.portPath), replyTimeout: .milliseconds(200))
        XCTAssertThrowsError(try widget.open()) { error in
            guard case .widgetSilent? = error as? LightingError else { return XCTFail("\(error)") }
        }
    }
}
