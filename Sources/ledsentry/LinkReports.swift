import Foundation
import LEDControllers

// What the link commands read from a controller, as values that print themselves as a
// table or JSON. `ledsentry demo` shows the same reports, so both stay in step.

/// Identity, protocol and per-cabinet state (`ledsentry info`).
struct ControllerSummary: Codable {
    struct Cabinet: Codable {
        var cabinet: Int
        var info: CabinetInfo?
        var telemetry: Telemetry?
        var error: String?
    }
    var port: String
    var protocolVersion: Int
    var maxPayload: Int
    var capabilities: [String]
    var identity: Identity
    var cabinets: [Cabinet]

    static func read(from client: ControllerClient) async throws -> ControllerSummary {
        let hello = try await client.hello()
        let identity = try await client.identify()
        var cabinets: [Cabinet] = []
        for cabinet in 0..<identity.geometry.cabinetCount {
            do {
                let info = try await client.cabinetInfo(UInt16(cabinet))
                let telemetry = try await client.telemetry(cabinet: UInt16(cabinet))
                cabinets.append(Cabinet(cabinet: cabinet, info: info, telemetry: telemetry))
            } catch {
                guard let status = unreachableStatus(error) else { throw error }
                cabinets.append(Cabinet(cabinet: cabinet, error: "\(status)"))
            }
        }
        let names: [(Capabilities, String)] = [(.eventFrames, "events"), (.ledStatus, "led-status"), (.telemetry, "telemetry")]
        return ControllerSummary(
            port: client.portName, protocolVersion: Int(hello.version), maxPayload: Int(hello.maxPayload),
            capabilities: names.filter { hello.capabilities.contains($0.0) }.map(\.1),
            identity: identity, cabinets: cabinets)
    }

    func printTable() {
        let g = identity.geometry
        printLinkTable(["CONTROLLER", ""], [
            ["port", port],
            ["model", identity.model],
            ["serial", identity.serial],
            ["firmware", identity.firmware],
            ["hardware revision", identity.hardwareRevision],
            ["protocol", "v\(protocolVersion), max payload \(maxPayload), \(capabilities.joined(separator: ", "))"],
            ["wall", "\(g.cabinetColumns) x \(g.cabinetRows) cabinets of \(g.modulesX) x \(g.modulesY) modules of "
                + "\(g.moduleWidth) x \(g.moduleHeight) LEDs = \(g.wallWidth) x \(g.wallHeight) LEDs"],
        ])
        print()
        printLinkTable(
            ["CABINET", "SERIAL", "FIRMWARE", "HW", "CALIBRATION", "TEMP °C", "SUPPLY V", "FAN RPM", "HOURS", "CYCLES"],
            cabinets.map { cabinet in
                guard let info = cabinet.info, let t = cabinet.telemetry else {
                    return ["\(cabinet.cabinet)", "unreachable: \(cabinet.error ?? "?")"]
                }
                return ["\(cabinet.cabinet)", info.serial, info.firmware, info.hardwareRevision,
                        String(format: "%08X", info.calibrationChecksum),
                        String(format: "%.1f", Double(t.temperatureDeciCelsius) / 10),
                        String(format: "%.2f", Double(t.supplyMillivolts) / 1000),
                        "\(t.fanRPM)", "\(t.runtimeHours)", "\(t.powerCycles)"]
            })
    }
}

/// The status, when `error` says a cabinet cannot be reached (offline or absent), so a
/// report can note it and go on with the other cabinets.
func unreachableStatus(_ error: any Error) -> Status? {
    guard let status = (error as? ControllerError)?.status, status == .hardwareFault || status == .notFound else { return nil }
    return status
}

/// One parameter's value and range (`ledsentry params get`).
struct ParameterRow: Codable {
    var name: String
    var id: Int
    var value: Int
    var min: Int
    var max: Int
    var unit: String

    init(_ reading: ParameterReading) {
        name = reading.parameter.name
        id = Int(reading.parameter.rawValue)
        value = Int(reading.value)
        min = Int(reading.minimum)
        max = Int(reading.maximum)
        unit = reading.parameter.unit
    }

    static func read(_ parameters: [ParameterID], from client: ControllerClient) async throws -> [ParameterRow] {
        var rows: [ParameterRow] = []
        for parameter in parameters { rows.append(ParameterRow(try await client.parameter(parameter))) }
        return rows
    }

    static func printTable(_ rows: [ParameterRow]) {
        printLinkTable(["PARAMETER", "ID", "VALUE", "RANGE", "UNIT"],
                                rows.map { [$0.name, "\($0.id)", "\($0.value)", "\($0.min)...\($0.max)", $0.unit] })
    }
}

/// Module self-test results of every cabinet (`ledsentry modules test`).
struct ModuleTestSummary: Codable {
    struct Row: Codable {
        var cabinet: Int
        var module: Int
        var passed: Bool
        var supplyMillivolts: Int
        var driverICsExpected: Int
        var driverICsFound: Int
        var failedChecks: [String]
    }
    var modules: [Row]
    var unreadableCabinets: [String: String]

    var failedCount: Int { modules.filter { !$0.passed }.count + unreadableCabinets.count }

    static func read(cabinets: [Int], from client: ControllerClient, progress: LinkProgress?) async throws -> ModuleTestSummary {
        var summary = ModuleTestSummary(modules: [], unreadableCabinets: [:])
        for (done, cabinet) in cabinets.enumerated() {
            progress?.update(done, cabinets.count)
            do {
                let report = try await client.moduleTest(cabinet: UInt16(cabinet))
                summary.modules += report.modules.map {
                    Row(cabinet: cabinet, module: Int($0.module), passed: $0.passed, supplyMillivolts: Int($0.supplyMillivolts),
                        driverICsExpected: Int($0.driverICsExpected), driverICsFound: Int($0.driverICsFound),
                        failedChecks: $0.checks.failedCheckNames)
                }
            } catch {
                guard unreachableStatus(error) != nil else { throw error }
                summary.unreadableCabinets["\(cabinet)"] = "\(error)"
            }
        }
        progress?.update(cabinets.count, cabinets.count)
        return summary
    }

    func printTable() {
        printLinkTable(
            ["CABINET", "MODULE", "RESULT", "SUPPLY V", "DRIVER ICS", "FAILED CHECKS"],
            modules.map {
                ["\($0.cabinet)", "\($0.module)", $0.passed ? "pass" : "FAIL",
                 String(format: "%.2f", Double($0.supplyMillivolts) / 1000),
                 "\($0.driverICsFound)/\($0.driverICsExpected)", $0.failedChecks.joined(separator: ", ")]
            })
        for (cabinet, reason) in unreadableCabinets.sorted(by: { $0.key < $1.key }) {
            print("cabinet \(cabinet): not tested: \(reason)")
        }
        print("\(modules.count - modules.filter { !$0.passed }.count) of \(modules.count) modules passed")
    }
}

/// Every failed LED of the wall (`ledsentry pixels status`).
struct PixelReport: Codable {
    var geometry: WallGeometry
    var faults: [LEDFault]
    var unreadableCabinets: [String: String]

    init(_ map: LEDStatusMap) {
        geometry = map.geometry
        faults = map.faults
        unreadableCabinets = Dictionary(uniqueKeysWithValues: map.unreadableCabinets.map { ("\($0.key)", $0.value) })
    }

    var failedLEDCount: Int { Set(faults.map(\.location)).count }

    /// One row per failed LED (channels failing the same way share a row; all three read
    /// "all"); with `grouped`, more than `groupAbove` LEDs failing one way in one module (a
    /// dead module, a missing driver IC) become one row with their extent.
    func printTable(grouped: Bool, groupAbove: Int = 8) {
        let perLED = Dictionary(grouping: faults) { LEDRowKey(location: $0.location, condition: $0.condition) }
            .map { key, members -> LEDRow in
                let channels = members.compactMap(\.channel)
                let names = channels.count == 3 || channels.isEmpty ? "all" : LEDChannel.allCases
                    .filter(channels.contains).map(\.rawValue).joined(separator: "+")
                return LEDRow(location: key.location, channels: names, condition: key.condition)
            }
        struct GroupKey: Hashable { var cabinet: Int, module: Int, channels: String, condition: LEDFault.Condition }
        var rows: [(sortKey: [Int], cells: [String])] = []
        for (key, members) in Dictionary(grouping: perLED, by: {
            GroupKey(cabinet: $0.location.cabinet, module: $0.location.module, channels: $0.channels, condition: $0.condition)
        }) {
            if grouped && members.count > groupAbove {
                func span(_ values: [Int]) -> String { "\(values.min()!)-\(values.max()!)" }
                let places = members.map(\.location)
                rows.append(([key.cabinet, places.map(\.cabinetY).min()!, places.map(\.cabinetX).min()!], [
                    "\(key.cabinet)", "\(key.module)", span(places.map(\.cabinetX)), span(places.map(\.cabinetY)),
                    span(places.map(\.wallX)), span(places.map(\.wallY)), key.channels, key.condition.rawValue,
                    "\(members.count) LEDs"]))
            } else {
                for row in members {
                    let l = row.location
                    rows.append(([l.cabinet, l.cabinetY, l.cabinetX], [
                        "\(l.cabinet)", "\(l.module)", "\(l.cabinetX)", "\(l.cabinetY)", "\(l.wallX)", "\(l.wallY)",
                        row.channels, row.condition.rawValue, ""]))
                }
            }
        }
        rows.sort { $0.sortKey != $1.sortKey ? $0.sortKey.lexicographicallyPrecedes($1.sortKey) : $0.cells[6] < $1.cells[6] }
        if !rows.isEmpty {
            printLinkTable(["CABINET", "MODULE", "X", "Y", "WALL X", "WALL Y", "CHANNEL", "CONDITION", ""], rows.map(\.cells))
        }
        for (cabinet, reason) in unreadableCabinets.sorted(by: { $0.key < $1.key }) {
            print("cabinet \(cabinet): not read: \(reason)")
        }
        let total = geometry.wallWidth * geometry.wallHeight
        print("\(failedLEDCount) of \(total) LEDs failed (\(faults.count) channel faults)"
              + (unreadableCabinets.isEmpty ? "" : ", \(unreadableCabinets.count) cabinet(s) unreadable"))
    }
}

private struct LEDRow: Hashable {
    var location: LEDLocation
    var channels: String
    var condition: LEDFault.Condition
}

private struct LEDRowKey: Hashable {
    var location: LEDLocation
    var condition: LEDFault.Condition
}

/// The controller's event log (`ledsentry events`).
enum EventTable {
    static func print(_ events: [EventRecord]) {
        printLinkTable(["SEQUENCE", "UPTIME S", "EVENT", "CABINET", "VALUE"], events.map { event in
            let value: String = switch event.type {
            case .overTemperature: String(format: "%.1f °C", Double(event.value) / 10)
            case .underVoltage: String(format: "%.2f V", Double(event.value) / 100)
            case .fanStall: "\(event.value) rpm"
            case .linkError: "\(event.value) errors"
            case .powerLoss: ""
            case .unknown: "\(event.value)" // a newer firmware's type: its raw value
            }
            return ["\(event.sequence)", "\(event.uptimeSeconds)", "\(event.type)",
                    event.cabinet == EventRecord.sendingCard ? "sending card" : "\(event.cabinet)", value]
        })
        Swift.print("\(events.count) event(s)")
    }
}
