import ArgumentParser
import Foundation
import LEDControllers
import LEDLink

/// Subcommands of this room, listed by LEDSentry.swift.
let linkCommands: [any ParsableCommand.Type] = [
    LinkPorts.self, LinkEmulate.self, LinkInfo.self, LinkParams.self, LinkPattern.self, LinkModules.self, LinkPixels.self, LinkEvents.self, LinkDemo.self,
]

let linkExitCodes = """
    Exit codes: 0 success; 1 a fault was found or the controller refused the request;
    2 bad command line; 3 device or link error (no such port, no answer, unplugged); 4 bad input file.
    """

struct LinkPorts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ports",
        abstract: "List serial ports (with the USB identity of each adapter) and LEDSentry controllers on USB.",
        discussion: """
            Pseudo-terminals (the emulator's /dev/pts/N) are not listed: nothing in /sys describes them.
            Give any port, listed or not, to the other commands with --port.

            \(linkExitCodes)
            """)

    @Flag(help: "Print JSON instead of a table.") var json = false

    struct Row: Codable {
        var path: String, bus: String, description: String
        var vid: String?, pid: String?, serial: String?, manufacturer: String?, product: String?
    }

    /// LEDSentry controllers on USB bulk (no serial port of their own). A machine without
    /// USB support lists none rather than failing the serial listing.
    private func usbControllers() -> [Row] {
        ((try? USBBulkTransport.list()) ?? []).map { device in
            Row(path: device.portName, bus: "usb-bulk", description: device.description,
                vid: String(format: "%04x", device.vendorID), pid: String(format: "%04x", device.productID),
                serial: device.serial, manufacturer: device.manufacturer, product: device.product)
        }
    }

    func run() async throws {
        try await runLinkCommand {
            let rows = try listPorts().map { port -> Row in
                var row = Row(path: port.path, bus: "native", description: port.summary)
                switch port.transport {
                case .native: break
                case .virtual: row.bus = "virtual"
                case .bluetooth: row.bus = "bluetooth"
                case .usb(let vid, let pid, let serial, let manufacturer, let product):
                    row.bus = "usb"
                    row.vid = String(format: "%04x", vid)
                    row.pid = String(format: "%04x", pid)
                    (row.serial, row.manufacturer, row.product) = (serial, manufacturer, product)
                }
                return row
            } + usbControllers()
            if json { return try printLinkJSON(rows) }
            if rows.isEmpty { return print("no serial ports found (the emulator's PTY is not listed; see `ledsentry emulate`)") }
            printLinkTable(["PORT", "BUS", "VID:PID", "SERIAL", "DESCRIPTION"], rows.map { row in
                [row.path, row.bus, row.vid.map { "\($0):\(row.pid ?? "")" } ?? "", row.serial ?? "", row.description]
            })
        }
    }
}

struct LinkInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the controller's identity, wall layout and each cabinet's state.",
        discussion: """
            Example: ledsentry info --port /dev/ttyUSB0

            \(linkExitCodes)
            """)

    @OptionGroup var connection: LinkConnectionOptions

    func run() async throws {
        try await runLinkCommand {
            let summary = try await ControllerSummary.read(from: try connection.connect())
            if connection.json { try printLinkJSON(summary) } else { summary.printTable() }
        }
    }
}

struct LinkParams: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params",
        abstract: "Read or write the controller's parameters.",
        discussion: "Parameters: " + ParameterID.known.map { "\($0.name) (\($0.unit))" }.joined(separator: ", ") + ".",
        subcommands: [Get.self, Set.self])

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one parameter, or all of them, with its range.",
            discussion: """
                Example: ledsentry params get brightness --port /dev/ttyUSB0

                \(linkExitCodes)
                """)

        @Argument(help: "A parameter name (brightness, gamma, refresh_rate, scan_mode, colour_temperature, input_source) or id; all when omitted.")
        var name: String?
        @OptionGroup var connection: LinkConnectionOptions

        func validate() throws {
            if let name, ParameterID(name: name) == nil { throw ValidationError("unknown parameter '\(name)'") }
        }

        func run() async throws {
            try await runLinkCommand {
                let parameters = name.flatMap(ParameterID.init(name:)).map { [$0] } ?? ParameterID.known.map(\.id)
                let rows = try await ParameterRow.read(parameters, from: try connection.connect())
                if connection.json { try printLinkJSON(name == nil ? LinkAnyEncodable(rows) : LinkAnyEncodable(rows[0])) } else { ParameterRow.printTable(rows) }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a parameter; prints the value now in force.",
            discussion: """
                Example: ledsentry params set brightness 60 --port /dev/ttyUSB0
                A value outside the parameter's range is refused by the controller (exit 1).

                \(linkExitCodes)
                """)

        @Argument(help: "The parameter's name or id.") var name: String
        @Argument(help: "The new value (an integer in the parameter's unit).") var value: Int32
        @OptionGroup var connection: LinkConnectionOptions

        func validate() throws {
            guard ParameterID(name: name) != nil else { throw ValidationError("unknown parameter '\(name)'") }
        }

        func run() async throws {
            try await runLinkCommand {
                let parameter = ParameterID(name: name)!
                let now = try await connection.connect().setParameter(parameter, to: value)
                if connection.json {
                    try printLinkJSON(["name": parameter.name, "value": "\(now)"])
                } else {
                    print("\(parameter.name) = \(now)")
                }
            }
        }
    }
}

struct LinkPattern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pattern",
        abstract: "Show a test pattern on the wall (`normal` returns to the video input).",
        discussion: "Patterns: " + TestPattern.known.map { "\($0.name) (argument: \($0.argument))" }.joined(separator: "; ")
            + ".\n\nExample: ledsentry pattern grid --argument 16 --port /dev/ttyUSB0\n\n" + linkExitCodes)

    @Argument(help: "The pattern's name.") var name: String
    @Option(help: "The pattern's argument (grid spacing, checker size, walking pixel index).") var argument: UInt16 = 0
    @OptionGroup var connection: LinkConnectionOptions

    func validate() throws {
        guard TestPattern(name: name) != nil else {
            throw ValidationError("unknown pattern '\(name)'; one of: \(TestPattern.known.map(\.name).joined(separator: ", "))")
        }
    }

    func run() async throws {
        try await runLinkCommand {
            let shown = try await connection.connect().showPattern(TestPattern(name: name)!, argument: argument)
            if connection.json {
                try printLinkJSON(["pattern": shown.pattern.name, "argument": "\(shown.argument)"])
            } else {
                print("showing \(shown.pattern.name)" + (shown.argument == 0 ? "" : " (argument \(shown.argument))"))
            }
        }
    }
}

struct LinkModules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "modules", abstract: "Module self-tests.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every module's self-test: data chain, supply voltage, driver ICs, calibration checksum.",
            discussion: """
                Exits 1 when any module fails. Takes up to 2.5 s per cabinet.

                \(linkExitCodes)
                """)

        @Option(help: "Test only this cabinet (numbered row-major from the top-left, from 0).") var cabinet: Int?
        @OptionGroup var connection: LinkConnectionOptions

        func run() async throws {
            try await runLinkCommand {
                let client = try connection.connect()
                let count = try await client.identify().geometry.cabinetCount
                if let cabinet, !(0..<count).contains(cabinet) {
                    throw LinkFailure(message: "cabinet \(cabinet) does not exist (the wall has \(count))", exitCode: LinkExit.usage)
                }
                let summary = try await ModuleTestSummary.read(
                    cabinets: cabinet.map { [$0] } ?? Array(0..<count), from: client, progress: LinkProgress("module test"))
                if connection.json { try printLinkJSON(summary) } else { summary.printTable() }
                if summary.failedCount > 0 { throw LinkExit.failureFound }
            }
        }
    }
}

struct LinkPixels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pixels", abstract: "Per-LED diagnostics.", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read back every LED's status and list each failed LED with its cabinet, module, x, y and channel.",
            discussion: """
                X and Y are cabinet coordinates from the cabinet's top-left LED; WALL X and WALL Y
                count from the wall's top-left LED seen from the front. OPEN is a dead channel, SHORT one
                stuck on, WEAK a dim one, NO_DATA an LED whose module did not answer (channel "all").
                Many faults of one kind in one module print as one row with their extent unless --all.
                Exits 1 when any LED failed.

                \(linkExitCodes)
                """)

        @Flag(help: "List every failed LED on its own row.") var all = false
        @OptionGroup var connection: LinkConnectionOptions

        func run() async throws {
            try await runLinkCommand {
                let progress = LinkProgress("reading LED status")
                let map = try await connection.connect().readWallStatus { done, total in progress.update(done, total) }
                let report = PixelReport(map)
                if connection.json { try printLinkJSON(report) } else { report.printTable(grouped: !all) }
                if !report.faults.isEmpty || !report.unreadableCabinets.isEmpty { throw LinkExit.failureFound }
            }
        }
    }
}

struct LinkEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show the controller's event log (over-temperature, under-voltage, fan stall, link errors, power loss).",
        discussion: linkExitCodes)

    @Option(help: "Show events from this sequence number on.") var from: UInt32 = 1
    @Flag(help: "Clear the log after showing it.") var clear = false
    @OptionGroup var connection: LinkConnectionOptions

    /// An event with its type's name beside the wire number, for readers of the JSON.
    struct Row: Codable {
        var sequence: UInt32, uptimeSeconds: UInt32, type: UInt8, name: String, cabinet: UInt16, value: Int16
        init(_ event: EventRecord) {
            (sequence, uptimeSeconds, type, name) = (event.sequence, event.uptimeSeconds, event.type.rawValue, "\(event.type)")
            (cabinet, value) = (event.cabinet, event.value)
        }
    }
    struct Output: Codable { var events: [Row]; var cleared: Int? }

    func run() async throws {
        try await runLinkCommand {
            let client = try connection.connect()
            let events = try await client.events(from: from)
            let cleared = clear ? try await client.clearEvents() : nil
            if connection.json { return try printLinkJSON(Output(events: events.map(Row.init), cleared: cleared)) }
            EventTable.print(events)
            if let cleared { print("cleared \(cleared) event(s)") }
        }
    }
}

/// Lets one `printLinkJSON` call print either of two shapes.
struct LinkAnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
