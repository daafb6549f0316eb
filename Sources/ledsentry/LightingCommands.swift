import ArgumentParser
import Diagnostics
import Foundation
import LEDLighting
import LEDLink
import Logging

/// Subcommands of this room, listed by LEDSentry.swift.
let lightingCommands: [any ParsableCommand.Type] = [LightingCommand.self]

struct LightingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lighting",
        abstract: "Diagnose DMX512/RDM (ANSI E1.20) lighting drivers through a USB-Pro-style widget.",
        discussion: """
            Every subcommand talks to one widget given by --port (a serial device such as \
            /dev/ttyUSB0 or /dev/serial/by-id/..., the USB serial number of its adapter, or the \
            emulator's /dev/pts/N from `ledsentry-emu --mode widget`). $LEDSENTRY_LIGHTING_PORT \
            is used when --port is not given.

            Start with `discover` to list the drivers on the line, then look at one with `info`, \
            `sensors`, `selftest`, or any parameter with `get` / `set`. `status` collects every \
            driver's status messages. UIDs are written MMMM:DDDDDDDD in hex (7FF0:2C4486D5).

            Exit codes: 0 ok; 1 a fault was found (sensor out of range, failed self-test, \
            error status) or the driver refused the request (NACK); 2 bad command line; \
            3 port, widget or driver did not answer properly.
            """,
        subcommands: [LightingDiscover.self, LightingInfo.self, LightingSensors.self, LightingSelfTest.self,
                      LightingGet.self, LightingSet.self, LightingStatus.self, LightingSurveyCommand.self,
                      LightingDMX.self])
}

/// Where the widget is and how patient to be: shared by every lighting subcommand.
struct LightingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The widget's serial port (or $LEDSENTRY_LIGHTING_PORT).", valueName: "path"))
    var port: String?

    @Option(name: .long, help: ArgumentHelp("How long the widget may take to answer one request.", valueName: "ms"))
    var timeout: Int = 500

    @Option(name: .long, help: "How often a lost or damaged reply is asked for again.")
    var retries: Int = 2

    @Option(name: .long, help: ArgumentHelp("Record the serial session to this file (evidence, replay in tests).", valueName: "file"))
    var record: String?

    @Flag(name: .long, help: "Print JSON instead of tables.")
    var json = false

    /// Checked before the port is opened; a problem is a usage error (exit 2).
    func check() throws(LightingError) {
        guard (10...60_000).contains(timeout) else { throw .invalidArgument("--timeout must be 10...60000 ms") }
        guard (0...10).contains(retries) else { throw .invalidArgument("--retries must be 0...10") }
        guard resolvedPort != nil else {
            throw .invalidArgument("give the widget's port with --port (e.g. /dev/ttyUSB0) or $LEDSENTRY_LIGHTING_PORT")
        }
    }

    var resolvedPort: String? {
        if let port, !port.isEmpty { return port }
        let env = ProcessInfo.processInfo.environment["LEDSENTRY_LIGHTING_PORT"]
        return env?.isEmpty == false ? env : nil
    }

    /// Opens the port and checks a widget answers on it.
    func connect() throws -> LightingSession {
        var logger = Logger(label: "ledsentry.lighting")
        logger.logLevel = .warning // which serial backend was chosen is not news here
        var transport = try openPort(resolvedPort ?? "", logger: logger)
        if let record { transport = try RecordingTransport(wrapping: transport, sessionPath: record) }
        let widget = USBProWidget(transport: transport, replyTimeout: .milliseconds(timeout))
        do {
            try widget.open()
        } catch {
            transport.close()
            throw error
        }
        let controller = RDMController(line: widget, retries: retries)
        return LightingSession(widget: widget, controller: controller, inspector: LightingInspector(controller: controller))
    }
}

struct LightingSession {
    let widget: USBProWidget
    let controller: RDMController
    let inspector: LightingInspector

    func close() { widget.transport.close() }

    func discover(showProgress: Bool) throws -> (DiscoveryReport, Duration) {
        var discovery = RDMDiscovery(controller: controller)
        let progress = ProgressLine(enabled: showProgress)
        discovery.progress = { branches, found in progress.update("discovery: \(branches) branches, \(found) driver(s) found") }
        let started = ContinuousClock.now
        let report = try discovery.run()
        progress.finish()
        return (report, started.duration(to: .now))
    }
}

/// A one-line progress note on stderr, only when stderr is a terminal.
final class ProgressLine {
    private let enabled: Bool
    private var last = ContinuousClock.now - .seconds(1)
    init(enabled: Bool) { self.enabled = enabled && isatty(2) == 1 }
    func update(_ text: String) {
        guard enabled, last.duration(to: .now) > .milliseconds(100) else { return }
        last = .now
        FileHandle.standardError.write(Data("\r\(text)\u{1B}[K".utf8))
    }
    func finish() { if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}

func parseUID(_ text: String) throws(LightingError) -> RDMUID {
    guard let uid = RDMUID(string: text) else {
        throw .invalidArgument("'\(text)' is not a UID: write MMMM:DDDDDDDD in hex, e.g. 7FF0:2C4486D5")
    }
    return uid
}

func parsePID(_ text: String) throws(LightingError) -> RDMParameter {
    guard let parameter = RDMParameter(name: text) else {
        throw .invalidArgument("unknown PID '\(text)': use an E1.20 name such as device_info, or a number such as 0x0060")
    }
    return parameter
}

/// Runs a lighting command: checks the arguments (`prepare`), connects, runs `body`;
/// prints errors plainly (or as JSON) and picks the documented exit code.
func runLighting<Prepared>(_ options: LightingOptions, prepare: () throws(LightingError) -> Prepared,
                           _ body: (LightingSession, Prepared) throws -> Int32) throws {
    let session: LightingSession
    let prepared: Prepared
    do {
        try options.check()
        prepared = try prepare()
        session = try options.connect()
    } catch {
        throw lightingFailure(error, json: options.json)
    }
    defer { session.close() }
    let code: Int32
    do {
        code = try body(session, prepared)
    } catch {
        throw lightingFailure(error, json: options.json)
    }
    if code != 0 { throw ExitCode(code) }
}

private func lightingFailure(_ error: any Error, json: Bool) -> ExitCode {
    let code: Int32
    switch error {
    case let e as LightingError:
        switch e {
        case .nacked: code = 1
        case .invalidArgument: code = 2
        case .link(.invalidArgument): code = 2
        default: code = 3
        }
    case is LinkError: code = 3
    case is ValidationError: code = 2
    default: code = 1
    }
    if json { printLightingJSON(["error": "\(error)", "exitCode": "\(code)"]) }
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    if code == 2 { FileHandle.standardError.write(Data("See 'ledsentry lighting --help'.\n".utf8)) }
    return ExitCode(code)
}

/// Writes issues as a Finding list for `ledsentry cases ingest --findings FILE`.
func writeLightingFindings(_ issues: [LightingIssue], to path: String?, port: String) throws {
    guard let path else { return }
    try writeFindingList(issues.map { Finding($0, port: port) }, to: path)
}

func writeFindingList(_ findings: [Finding], to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    do {
        try encoder.encode(FindingList(findings: findings)).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw LightingError.invalidArgument("cannot write findings to \(path): \(error.localizedDescription)")
    }
}

func printLightingJSON<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return }
    print(String(decoding: data, as: UTF8.self))
}

/// A plain text table: a header, then rows, columns padded to fit.
func printLightingTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in
        ([header] + rows).map { $0[column].count }.max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

// MARK: - discover

struct LightingDiscover: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "Find every RDM driver on the line (full E1.20 discovery).",
        discussion: """
            Un-mutes every driver, then searches the UID space with DISC_UNIQUE_BRANCH, \
            splitting a branch whenever replies collide, and mutes each driver found. Then \
            reads each driver's DEVICE_INFO and labels (skip that with --uids-only).
            Example: ledsentry lighting discover --port /dev/ttyUSB0
            """)

    @OptionGroup var options: LightingOptions
    @Flag(name: .long, help: "List UIDs only; do not read each driver's identity.")
    var uidsOnly = false

    struct Output: Encodable {
        var uids: [RDMUID]
        var drivers: [DriverIdentity]
        var unreadable: [String: String]
        var unmutable: [RDMUID]
        var branches: Int
        var collisions: Int
        var incomplete: Bool
        var milliseconds: Int
    }

    func run() throws {
        try runLighting(options, prepare: {}) { session, _ in
            let (report, elapsed) = try session.discover(showProgress: !options.json)
            var drivers: [DriverIdentity] = []
            var unreadable: [String: String] = [:]
            if !uidsOnly {
                for uid in report.uids {
                    do { drivers.append(try session.inspector.identity(uid)) } catch { unreadable[uid.description] = "\(error)" }
                }
            }
            let output = Output(uids: report.uids, drivers: drivers, unreadable: unreadable, unmutable: report.unmutable,
                                branches: report.branches, collisions: report.collisions, incomplete: report.incomplete,
                                milliseconds: milliseconds(elapsed))
            if options.json {
                printLightingJSON(output)
            } else if uidsOnly {
                report.uids.forEach { print($0) }
            } else {
                printLightingTable(["UID", "MODEL", "LABEL", "ADDRESS", "FOOTPRINT", "SOFTWARE"], drivers.map {
                    [$0.uid.description, $0.model ?? "model \($0.info.modelID)", $0.label ?? "",
                     String($0.info.startAddress), String($0.info.footprint), $0.softwareVersion ?? ""]
                } + unreadable.sorted { $0.key < $1.key }.map { [$0.key, "(no answer: \($0.value))", "", "", "", ""] })
            }
            if !options.json {
                let note = "\(report.uids.count) driver(s), \(report.branches) branches, \(report.collisions) collisions, \(String(format: "%.1f", Double(microseconds(elapsed)) / 1000)) ms"
                FileHandle.standardError.write(Data("\(note)\n".utf8))
                for uid in report.unmutable {
                    FileHandle.standardError.write(Data("warning: \(uid) answered discovery but never acknowledged DISC_MUTE\n".utf8))
                }
                if report.incomplete {
                    FileHandle.standardError.write(Data("warning: discovery stopped at its branch limit; the line never went quiet\n".utf8))
                }
            }
            return 0
        }
    }
}

func milliseconds(_ duration: Duration) -> Int { microseconds(duration) / 1000 }

func microseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
}

// MARK: - info

struct LightingInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show who a driver is: model, labels, software, DMX address and personality, counters.",
        discussion: "Example: ledsentry lighting info 7FF0:2C4486D5 --port /dev/ttyUSB0")

    @OptionGroup var options: LightingOptions
    @Argument(help: "The driver's UID (MMMM:DDDDDDDD).") var uid: String

    struct Output: Encodable {
        var identity: DriverIdentity
        var personality: NumberedDescription?
        var counters: [String: UInt32]
        var supportedParameters: [String]
    }

    func run() throws {
        try runLighting(options, prepare: { () throws(LightingError) in try parseUID(self.uid) }) { session, uid in
            let identity = try session.inspector.identity(uid)
            let c = session.controller
            let personality = try? NumberedDescription(personality: c.get(uid, .dmxPersonalityDescription, data: [identity.info.personality]).data)
            var counters: [String: UInt32] = [:]
            for pid: RDMParameter in [.deviceHours, .lampHours, .lampStrikes, .devicePowerCycles] {
                if let data = try? c.get(uid, pid).data, data.count == 4 { counters[pid.name!] = data.reduce(0) { $0 << 8 | UInt32($1) } }
            }
            let supported = (try? c.get(uid, .supportedParameters).data).map { data in
                stride(from: 0, to: data.count - 1, by: 2).map { RDMParameter(rawValue: UInt16(data[$0]) << 8 | UInt16(data[$0 + 1])).description }
            } ?? []
            if options.json {
                printLightingJSON(Output(identity: identity, personality: personality, counters: counters, supportedParameters: supported))
                return 0
            }
            let i = identity.info
            var rows: [[String]] = [
                ["UID", uid.description], ["manufacturer", identity.manufacturer ?? "-"], ["model", identity.model ?? "-"],
                ["model id", "0x" + String(i.modelID, radix: 16)], ["label", identity.label ?? "-"],
                ["software", (identity.softwareVersion ?? "-") + " (\(i.softwareVersion))"],
                ["RDM protocol", "\(i.protocolVersion >> 8).\(i.protocolVersion & 0xFF)"],
                ["DMX start address", String(i.startAddress)], ["DMX footprint", String(i.footprint)],
                ["personality", "\(i.personality) of \(i.personalityCount)" + (personality.map { ": \($0.description)" } ?? "")],
                ["sensors", String(i.sensorCount)], ["sub-devices", String(i.subDeviceCount)],
            ]
            rows += counters.sorted { $0.key < $1.key }.map { [$0.key.replacingOccurrences(of: "_", with: " "), String($0.value)] }
            rows.append(["supported PIDs", supported.joined(separator: ", ")])
            printLightingTable(["FIELD", "VALUE"], rows)
            return 0
        }
    }
}

// MARK: - sensors

struct LightingSensors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensors",
        abstract: "Read every sensor of a driver (or of every driver) and judge it against its normal range.",
        discussion: """
            Reads SENSOR_DEFINITION and SENSOR_VALUE for each sensor. Without a UID, discovers \
            the line and sweeps every driver. Exit code 1 when a reading is outside its \
            normal range (over-temperature, output current off) or outside what the sensor \
            can measure (a failed sensor), or a driver does not answer.
            Examples: ledsentry lighting sensors 7FF0:2C4486D5 --port /dev/ttyUSB0
                      ledsentry lighting sensors --port /dev/ttyUSB0 --findings faults.json
            """)

    @OptionGroup var options: LightingOptions
    @Option(help: ArgumentHelp("Also write the faults as warranty findings (for `ledsentry cases ingest --findings`).", valueName: "file"))
    var findings: String?
    @Argument(help: "The driver's UID (MMMM:DDDDDDDD); all drivers when left out.") var uid: String?

    struct Driver: Encodable {
        var uid: RDMUID
        var sensors: [SensorReading]
    }

    struct Output: Encodable {
        var drivers: [Driver]
        var issues: [LightingIssue]
    }

    func run() throws {
        try runLighting(options, prepare: { () throws(LightingError) in
            try uid.map { (text) throws(LightingError) in try parseUID(text) }
        }) { (session: LightingSession, only: RDMUID?) in
            let uids: [RDMUID] = try only.map { [$0] } ?? session.discover(showProgress: !options.json).0.uids
            var drivers: [Driver] = []
            var issues: [LightingIssue] = []
            for uid in uids {
                do {
                    let readings = try session.inspector.sensors(uid)
                    drivers.append(Driver(uid: uid, sensors: readings))
                    issues += LightingRules.issues(uid: uid, sensors: readings)
                } catch {
                    // sweeping the line, one silent driver is a finding; asked for one, an error
                    guard only == nil, case LightingError.noResponse = error else { throw error }
                    issues.append(LightingIssue(uid: uid, kind: .noResponse, summary: "did not answer its sensor readings"))
                }
            }
            try writeLightingFindings(issues, to: findings, port: session.widget.transport.portName)
            if options.json {
                printLightingJSON(Output(drivers: drivers, issues: issues))
            } else {
                var header = ["#", "SENSOR", "VALUE", "NORMAL", "RANGE", "LOWEST", "HIGHEST", "CONDITION"]
                if only == nil { header.insert("UID", at: 0) }
                printLightingTable(header, drivers.flatMap { driver in
                    driver.sensors.map { r in
                        let d = r.definition, v = r.value, u = d.unitSymbol
                        let row = [String(d.number), d.description, "\(v.present) \(u)", "\(d.normalMin)...\(d.normalMax)",
                                   "\(d.rangeMin)...\(d.rangeMax)", String(v.lowest), String(v.highest), r.condition.rawValue]
                        return only == nil ? [driver.uid.description] + row : row
                    }
                })
                issues.forEach { print("FAULT \($0.uid) \($0.kind.rawValue): \($0.summary)") }
                if uids.isEmpty { FileHandle.standardError.write(Data("no drivers found on the line\n".utf8)) }
            }
            return issues.isEmpty ? 0 : 1
        }
    }
}

// MARK: - selftest

struct LightingSelfTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Run a driver's self-test (PERFORM_SELFTEST) and report the verdict.",
        discussion: """
            Starts the test, polls until the driver says it is done (at most --limit seconds), \
            then reads the verdict from its status messages. Exit code 1 when it failed.
            Example: ledsentry lighting selftest 7FF0:2C4486D5 --test 1 --port /dev/ttyUSB0
            """)

    @OptionGroup var options: LightingOptions
    @Argument(help: "The driver's UID (MMMM:DDDDDDDD).") var uid: String
    @Option(help: "Test number (1...254) or 255 for all tests.") var test: UInt8 = 1
    @Option(help: ArgumentHelp("Also write the faults as warranty findings (for `ledsentry cases ingest --findings`).", valueName: "file"))
    var findings: String?
    @Option(help: "Seconds the test may run.") var limit: Int = 30


    struct Output: Encodable {
        var result: SelfTestResult
        var issues: [LightingIssue]
    }

    func run() throws {
        try runLighting(options, prepare: { () throws(LightingError) in
            guard test != 0 else { throw .invalidArgument("--test 0 means 'stop'; give 1...254, or 255 for all") }
            guard (1...3600).contains(limit) else { throw .invalidArgument("--limit must be 1...3600 seconds") }
            return try parseUID(self.uid)
        }) { session, uid in
            session.inspector.selfTestLimit = .seconds(limit)
            if !options.json { FileHandle.standardError.write(Data("running self-test \(test) on \(uid)...\n".utf8)) }
            let result = try session.inspector.selfTest(uid, test: test)
            let issues = LightingRules.issues(selfTest: result)
            try writeLightingFindings(issues, to: findings, port: session.widget.transport.portName)
            if options.json {
                printLightingJSON(Output(result: result, issues: issues))
            } else {
                let verdict = result.passed.map { $0 ? "PASSED" : "FAILED" } ?? "finished (the driver reported no verdict)"
                print("\(uid) self-test \(test)\(result.description.map { " (\($0))" } ?? ""): \(verdict) in \(result.milliseconds) ms")
                result.messages.forEach { print("  \($0.severity): \($0.text)") }
            }
            return result.passed == false ? 1 : 0
        }
    }
}

// MARK: - get / set

struct LightingGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "GET one parameter (PID) of a driver and show it decoded.",
        discussion: """
            PID is an E1.20 name (device_info, sensor_value, lamp_hours, status_messages, ...) \
            or a number (0x0060). Some take a value: a sensor, test or personality number, or \
            a status type (advisory, warning, error). hex:BYTES sends raw parameter data. \
            ACK_TIMER and ACK_OVERFLOW replies are followed up automatically.
            Examples: ledsentry lighting get 7FF0:2C4486D5 sensor_value 0
                      ledsentry lighting get 7FF0:2C4486D5 0x0400
            """)

    @OptionGroup var options: LightingOptions
    @Argument(help: "The driver's UID (MMMM:DDDDDDDD).") var uid: String
    @Argument(help: "The parameter: an E1.20 name or a number.") var pid: String
    @Argument(help: "The GET's parameter data, if the PID takes any.") var value: String?

    struct Output: Encodable {
        var uid: RDMUID
        var pid: String
        var fields: [RDMField]
        var raw: String
        var queued: Bool
        var pieces: Int
    }

    func run() throws {
        try runLighting(options, prepare: { () throws(LightingError) in
            let parameter = try parsePID(pid)
            return (try parseUID(self.uid), parameter, try RDMParameterText.getData(parameter, value))
        }) { session, request in
            let (uid, parameter, data) = request
            let response = try session.controller.get(uid, parameter, data: data)
            let fields = try RDMParameterText.describe(parameter, response.data)
            if options.json {
                printLightingJSON(Output(uid: uid, pid: parameter.description, fields: fields,
                                         raw: RDMParameterText.hexText(response.data), queued: response.wasQueued,
                                         pieces: response.pieces))
            } else {
                printLightingTable(["FIELD", "VALUE"], fields.map { [$0.name, $0.value.description] })
            }
            return 0
        }
    }
}

struct LightingSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "SET one parameter (PID) of a driver.",
        discussion: """
            Values: device_label TEXT; dmx_start_address 1...512; dmx_personality N; \
            identify_device on|off; lamp_state on|off|standby|strike; device_hours, \
            lamp_hours, lamp_strikes, device_power_cycles N; reset_device warm|cold; \
            perform_selftest N|all|off; sensor_value N|all (reset lowest/highest); \
            any PID: hex:BYTES. UID FFFF:FFFFFFFF sets every driver (no reply comes back). \
            A refusal (NACK) names the reason and exits 1.
            Example: ledsentry lighting set 7FF0:2C4486D5 dmx_start_address 17
            """)

    @OptionGroup var options: LightingOptions
    @Argument(help: "The driver's UID (MMMM:DDDDDDDD), or FFFF:FFFFFFFF for all.") var uid: String
    @Argument(help: "The parameter: an E1.20 name or a number.") var pid: String
    @Argument(help: "The value to set.") var value: String?

    struct Output: Encodable {
        var uid: RDMUID
        var pid: String
        var acknowledged: Bool
        var raw: String
    }

    func run() throws {
        try runLighting(options, prepare: { () throws(LightingError) in
            let parameter = try parsePID(pid)
            return (try parseUID(self.uid), parameter, try RDMParameterText.setData(parameter, value))
        }) { session, request in
            let (uid, parameter, data) = request
            let response = try session.controller.set(uid, parameter, data: data)
            if options.json {
                printLightingJSON(Output(uid: uid, pid: parameter.description, acknowledged: !uid.isBroadcast,
                                         raw: RDMParameterText.hexText(response.data)))
            } else {
                print(uid.isBroadcast ? "sent \(parameter) to \(uid) (broadcast: no acknowledgement)" : "\(uid): \(parameter) set")
            }
            return 0
        }
    }
}

// MARK: - status

struct LightingStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Collect every driver's status messages and lamp state.",
        discussion: """
            Discovers the line (or asks only --uid), then reads STATUS_MESSAGES (advisory and \
            worse) and LAMP_STATE of each driver. Exit code 1 when any driver reports an \
            error, a lamp failure, or does not answer.
            Example: ledsentry lighting status --port /dev/ttyUSB0 --json
            """)

    @OptionGroup var options: LightingOptions
    @Option(help: "Ask only this driver instead of discovering the line.") var uid: String?
    @Option(help: ArgumentHelp("Also write the faults as warranty findings (for `ledsentry cases ingest --findings`).", valueName: "file"))
    var findings: String?

    struct Output: Encodable {
        var drivers: [DriverStatus]
        var issues: [LightingIssue]
    }

    func run() throws {
        try runLighting(options, prepare: { () throws(LightingError) in try uid.map { (text) throws(LightingError) in try parseUID(text) } }) { session, only in
            let uids = try only.map { [$0] } ?? session.discover(showProgress: !options.json).0.uids
            var statuses: [DriverStatus] = []
            var issues: [LightingIssue] = []
            for uid in uids {
                do {
                    let status = try session.inspector.status(uid)
                    statuses.append(status)
                    issues += LightingRules.issues(status: status)
                } catch LightingError.noResponse, LightingError.badReply {
                    issues.append(LightingIssue(uid: uid, kind: .noResponse, summary: "did not answer STATUS_MESSAGES"))
                }
            }
            try writeLightingFindings(issues, to: findings, port: session.widget.transport.portName)
            if options.json {
                printLightingJSON(Output(drivers: statuses, issues: issues))
            } else {
                var rows: [[String]] = []
                for status in statuses {
                    let lamp = status.lampState.map(LampState.name) ?? "-"
                    if status.messages.isEmpty { rows.append([status.uid.description, lamp, "-", "no messages"]) }
                    for m in status.messages { rows.append([status.uid.description, lamp, m.severity, m.text]) }
                }
                for issue in issues where issue.kind == .noResponse { rows.append([issue.uid.description, "-", "-", issue.summary]) }
                printLightingTable(["UID", "LAMP", "SEVERITY", "MESSAGE"], rows)
                if uids.isEmpty { FileHandle.standardError.write(Data("no drivers found on the line\n".utf8)) }
            }
            return issues.isEmpty ? 0 : 1
        }
    }
}

// MARK: - survey

struct LightingSurveyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "survey",
        abstract: "Check the whole line: every driver's identity, sensors, status (and self-test), as findings.",
        discussion: """
            Discovers the line, then for each driver reads its identity, sensors, status \
            messages and lamp state, and runs its self-test when --selftest is given. Every \
            fault becomes a warranty finding (--findings FILE for `ledsentry cases ingest`). \
            A driver that stops answering is a finding, not an error. Exit code 1 when \
            anything was found.
            Example: ledsentry lighting survey --port /dev/ttyUSB0 --selftest 255 --findings f.json
            """)

    @OptionGroup var options: LightingOptions
    @Option(help: ArgumentHelp("Also run this self-test on every driver (255: all tests).", valueName: "test"))
    var selftest: UInt8?
    @Option(help: ArgumentHelp("Also write the findings (for `ledsentry cases ingest --findings`).", valueName: "file"))
    var findings: String?

    func run() throws {
        try runLighting(options, prepare: { () throws(LightingError) in
            if selftest == 0 { throw .invalidArgument("--selftest 0 means 'stop'; give 1...254, or 255 for all") }
        }) { session, _ in
            var survey = LightingSurvey(controller: session.controller, port: session.widget.transport.portName,
                                        options: .init(selfTest: selftest))
            let progress = ProgressLine(enabled: !options.json)
            survey.progress = { index, count, uid in progress.update("survey: driver \(index + 1) of \(count) (\(uid))") }
            let report = try survey.run()
            progress.finish()
            if let findings {
                try writeFindingList(report.findings, to: findings)
            }
            let issues = report.drivers.flatMap(\.issues)
            if options.json {
                printLightingJSON(report)
            } else {
                printLightingTable(["UID", "MODEL", "LABEL", "SENSORS", "LAMP", "SELF-TEST", "ISSUES"], report.drivers.map { d in
                    let abnormal = d.sensors.filter { $0.condition != .normal }.count
                    return [d.uid.description, d.identity?.model ?? "-", d.identity?.label ?? "-",
                            d.sensors.isEmpty ? "-" : "\(d.sensors.count - abnormal) ok, \(abnormal) not",
                            d.status?.lampState.map(LampState.name) ?? "-",
                            d.selfTest.map { $0.passed.map { $0 ? "passed" : "FAILED" } ?? "no verdict" } ?? "-",
                            String(d.issues.count)]
                })
                issues.forEach { print("FAULT \($0.uid) \($0.kind.rawValue): \($0.summary)") }
                FileHandle.standardError.write(Data("\(report.drivers.count) driver(s), \(report.findings.count) finding(s)\n".utf8))
            }
            return issues.isEmpty ? 0 : 1
        }
    }
}

// MARK: - dmx

struct LightingDMX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dmx",
        abstract: "Send DMX512 levels (to light fixtures up while looking for dead LED strings).",
        discussion: """
            Sends one DMX frame through the widget, which keeps repeating it on the line \
            until the next frame. Channels not named are 0. A frame is as long as its \
            highest channel (--all fills all 512).
            Examples: ledsentry lighting dmx 1=255 2=128 3-6=64 --port /dev/ttyUSB0
                      ledsentry lighting dmx --all 255        (everything full on)
                      ledsentry lighting dmx --all 0          (blackout)
            """)

    @OptionGroup var options: LightingOptions
    @Option(help: ArgumentHelp("Set all 512 channels to this level first.", valueName: "level")) var all: UInt8?
    @Argument(help: "CHANNEL=LEVEL or FIRST-LAST=LEVEL (channels 1...512, levels 0...255).") var levels: [String] = []

    struct Output: Encodable {
        var slots: Int
        var levels: [UInt8]
    }

    func run() throws {
        try runLighting(options, prepare: { () throws(LightingError) in
            guard all != nil || !levels.isEmpty else {
                throw .invalidArgument("name some channels (1=255) or give --all LEVEL")
            }
            var frame = all.map { DMXFrame(all: $0) } ?? DMXFrame(count: 0)
            for assignment in levels { try frame.apply(assignment) }
            return frame
        }) { session, frame in
            try session.widget.sendDMX(frame.slots)
            if options.json {
                printLightingJSON(Output(slots: frame.slots.count, levels: frame.slots))
            } else {
                print("sent a DMX frame of \(frame.slots.count) channel(s)")
            }
            return 0
        }
    }
}
