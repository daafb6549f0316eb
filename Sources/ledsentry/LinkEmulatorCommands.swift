import ArgumentParser
import Dispatch
import Foundation
import LEDControllers
import LEDLink
import Logging

/// Where to look for the emulator: beside this executable's repository, then the working directory.
func locateLinkEmulator() throws -> String {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    return try EmulatorProcess.locate(searchFrom: [executable, FileManager.default.currentDirectoryPath])
}

/// The emulator's wall and fault flags, shared by `emulate` and `demo`.
struct LinkEmulatorWallOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Cabinets across x down.", valueName: "CxR")) var cabinets: String?
    @Option(help: ArgumentHelp("Modules per cabinet, across x down.", valueName: "MxN")) var modules: String?
    @Option(name: .customLong("module-size"), help: ArgumentHelp("LEDs per module.", valueName: "WxH")) var moduleSize: String?
    @Option(help: "Seed for serial numbers, telemetry and link faults (deterministic runs).") var seed: UInt32?

    func validate() throws {
        for (flag, value) in [("--cabinets", cabinets), ("--modules", modules), ("--module-size", moduleSize)] {
            guard let value else { continue }
            let parts = value.split(separator: "x")
            guard parts.count == 2, parts.allSatisfy({ (Int($0) ?? 0) > 0 }) else {
                throw ValidationError("\(flag) wants two positive numbers like 4x2, not '\(value)'")
            }
        }
    }

    var arguments: [String] {
        [("--cabinets", cabinets), ("--modules", modules), ("--module-size", moduleSize), ("--seed", seed.map { "\($0)" })]
            .flatMap { flag, value in value.map { [flag, $0] } ?? [] }
    }
}

struct LinkEmulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulate",
        abstract: "Start the reference controller emulator on a pseudo-terminal and print its port.",
        discussion: """
            Runs Firmware/build/ledsentry-emu (found beside this program's repository, or at
            $LEDSENTRY_EMULATOR) until Ctrl-C. Use the printed port with the other commands:

              ledsentry emulate --fault 'dead-led cabinet=0 x=10 y=5 channel=red' &
              ledsentry pixels status --port /dev/pts/N

            Fault specs (see Firmware/README.md): dead-led, stuck-led, dim-led, dead-row,
            dead-column, dead-module, chain-break, missing-ic, calibration-mismatch,
            over-temperature, under-voltage, fan-stall, cabinet-offline, flaky-link,
            unplug-after, slow-response.

            \(linkExitCodes)
            """)

    @Option(help: ArgumentHelp("Inject the faults listed in this file, one per line (# starts a comment).", valueName: "file"))
    var faults: String?
    @Option(help: ArgumentHelp("Inject one fault (repeatable), e.g. 'dead-module cabinet=1 module=2'.", valueName: "spec"))
    var fault: [String] = []
    @Option(help: ArgumentHelp("Also make a symlink at this path to the emulator's port.", valueName: "path"))
    var link: String?
    @OptionGroup var wall: LinkEmulatorWallOptions
    @Flag(help: "Print the port as JSON.") var json = false

    func validate() throws {
        if let faults, !FileManager.default.isReadableFile(atPath: faults) {
            throw ValidationError("cannot read the fault file \(faults)")
        }
    }

    func run() async throws {
        try await runLinkCommand {
            let arguments = wall.arguments + (faults.map { ["--faults", $0] } ?? []) + fault.flatMap { ["--fault", $0] }
                + (link.map { ["--link", $0] } ?? [])
            let emulator: EmulatorProcess
            do {
                emulator = try EmulatorProcess(executable: try locateLinkEmulator(), arguments: arguments)
            } catch let error as EmulatorError where faults != nil {
                guard case .failedToStart(let executable, let reason) = error else { throw error }
                // The emulator names the bad line on stderr; its exit 4 means a bad fault file.
                throw LinkFailure(message: "\(executable) did not start: \(reason)", exitCode: LinkExit.badInputFile)
            }
            if json {
                try printLinkJSON(["port": emulator.portPath, "link": link ?? ""])
            } else {
                print("port: \(emulator.portPath)")
                if let link { print("link: \(link)") }
                print("try: ledsentry info --port \(link ?? emulator.portPath)    (Ctrl-C stops the emulator)")
            }
            fflush(nil) // all streams: stdout may be a pipe to a script waiting for the port
            let status = await runUntilSignal(emulator)
            if status != 0 && status != 128 + SIGTERM && status != 128 + SIGINT {
                throw LinkFailure(message: "the emulator exited with status \(status)", exitCode: LinkExit.linkError)
            }
        }
    }

    /// Waits for the emulator to exit; Ctrl-C or SIGTERM stop it first.
    private func runUntilSignal(_ emulator: EmulatorProcess) async -> Int32 {
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { emulator.stop() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: emulator.waitUntilExit()) }
        }
    }
}

struct LinkDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the whole link at work: start the emulator with a preset of faults and diagnose it.",
        discussion: """
            Starts Firmware/build/ledsentry-emu with the faults below, then shows the controller's
            identity, its parameters, the module test results, every failed LED read back, each at its
            place, and the event log; stops the emulator and exits 0. Nothing to start by hand.

            Preset faults:
            \(demoFaults.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { "  " + $0 }.joined(separator: "\n"))
            """)

    @Flag(help: "Print everything as one JSON document.") var json = false

    struct Output: Codable {
        var faultsInjected: [String]
        var controller: ControllerSummary
        var parameters: [ParameterRow]
        var moduleTest: ModuleTestSummary
        var pixels: PixelReport
        var events: [LinkEvents.Row]
    }

    func run() async throws {
        try await runLinkCommand {
            let faultFile = FileManager.default.temporaryDirectory.appendingPathComponent("ledsentry-demo-\(getpid()).faults")
            try Data(demoFaults.utf8).write(to: faultFile)
            defer { try? FileManager.default.removeItem(at: faultFile) }
            let emulator = try EmulatorProcess(executable: try locateLinkEmulator(),
                                               arguments: ["--seed", "42", "--faults", faultFile.path], quiet: true)
            defer { emulator.stop() }
            let injected = demoFaults.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map(String.init)

            var quietLogger = Logger(label: "ledsentry.link")
            quietLogger.logLevel = .warning
            let client = ControllerClient(transport: try openPort(emulator.portPath, logger: quietLogger))
            let controller = try await ControllerSummary.read(from: client)
            let parameters = try await ParameterRow.read(ParameterID.known.map(\.id), from: client)
            let modules = try await ModuleTestSummary.read(
                cabinets: Array(0..<controller.identity.geometry.cabinetCount), from: client,
                progress: json ? nil : LinkProgress("module test"))
            let progress = json ? nil : LinkProgress("reading LED status")
            let pixels = PixelReport(try await client.readWallStatus(identity: controller.identity) { done, total in
                progress?.update(done, total)
            })

            let events = try await client.events()
            if json {
                return try printLinkJSON(Output(faultsInjected: injected, controller: controller, parameters: parameters,
                                                moduleTest: modules, pixels: pixels, events: events.map(LinkEvents.Row.init)))
            }
            section("Emulator on \(emulator.portPath), faults injected")
            injected.forEach { print("  \($0)") }
            section("Controller")
            controller.printTable()
            section("Parameters")
            ParameterRow.printTable(parameters)
            section("Module test")
            modules.printTable()
            section("Failed LEDs read back")
            pixels.printTable(grouped: true)
            section("Event log")
            EventTable.print(events)
            print("\nDone: the emulator is stopped. Run it yourself with `ledsentry emulate`.")
        }
    }

    private func section(_ title: String) {
        print("\n== \(title) ==")
    }
}

/// The demo's wall: 2x2 cabinets of 2x2 modules of 64x32 LEDs, with faults a service
/// engineer meets, one of each kind the LED read-back and the module test can show.
let demoFaults = """
    # ledsentry demo: faults injected into the emulator (Firmware/README.md has the grammar)
    dead-led cabinet=0 x=10 y=5 channel=red
    stuck-led cabinet=1 x=100 y=40 channel=green
    dim-led cabinet=2 x=64 y=0 channel=blue level=30
    dead-column cabinet=3 x=7 y0=10 y1=14 channel=all
    dead-module cabinet=1 module=2
    chain-break cabinet=3 after=2
    missing-ic cabinet=2 module=1 ic=4
    calibration-mismatch cabinet=0 module=3
    over-temperature cabinet=0 celsius=78 after=0
    """
