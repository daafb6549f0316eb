import ArgumentParser
import Diagnostics
import Foundation
import FrameAnalysis
import LEDControllers
import LEDLink
import Logging
import Warranty

/// Subcommands of this room, listed by LEDSentry.swift.
let inspectCommands: [any ParsableCommand.Type] = [Inspect.self, Demo.self]

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect a display wall end to end and open or update its warranty cases.",
        discussion: """
            Reads the controller (identity, parameters, module tests, telemetry,
            event log, the status of every LED), then shows white, red, green,
            blue and black, takes a capture of each and analyses it; merges what
            the controller and the camera found, applies the warranty policy and
            opens a case per fault, or updates the open one: the same fault on
            the same product never opens a second case. The evidence (captures,
            annotated pictures, parameter dump, module tests, LED status, the
            recorded link session, the log) goes into each case's bundle.

            Captures come from one of:
              --captures DIR     your files: white.jpg red.jpg green.jpg blue.jpg
                                 black.jpg (PNG, JPEG, PGM/PPM; capture-white.png
                                 works too)
              --camera CMD       a command that writes one picture to {out}:
                --camera 'gphoto2 --capture-image-and-download
                          --force-overwrite --filename {out}'
                --camera 'ffmpeg -y -loglevel error -f v4l2 -i /dev/video0
                          -frames:v 1 {out}'
              --simulated-camera FILE
                                 renders the emulator's --frame-out FILE
            Without any of them the inspection is electrical only.

            Example:
              ledsentry products add --serial WALL-7 --model LS-P2.5 \\
                  --customer ACME --contract-date 2026-01-15 --card WC-1
              ledsentry inspect --port /dev/ttyUSB0 --product WALL-7 \\
                  --camera 'gphoto2 --capture-image-and-download --filename {out}'

            Exit codes: 0 no fault breaks the policy; 1 faults found (cases
            opened or updated) or the command failed; 2 bad command line;
            3 device, link or camera error; 4 bad input file (a capture missing,
            unreadable or not analysable); 5 store error.
            """)

    @Option(help: ArgumentHelp("The controller's port (path or USB serial); default $LEDSENTRY_PORT.", valueName: "path|serial"))
    var port: String?
    @OptionGroup var source: CaptureOptions
    @Option(help: "The product's serial number in the warranty registry (`ledsentry products add`).")
    var product: String
    @OptionGroup var store: StoreOptions
    @OptionGroup var actor: ActorOption
    @Option(help: "Policy file (YAML or JSON) instead of the built-in one.") var policy: String?
    @Option(help: ArgumentHelp("Keep this run's evidence files here (default: runs/<time>/ beside the store).", valueName: "dir"))
    var evidenceDir: String?
    @Option(help: "Times to re-send a request after a timeout or a bad checksum.") var retries: Int = 3
    @Flag(help: "Clear the controller's event log once it is saved as evidence (after a repair: later runs see only new alarms).")
    var clearEvents = false

    func validate() throws {
        guard resolvedPort != nil else {
            throw ValidationError("no controller port: give --port PATH|SERIAL or set LEDSENTRY_PORT (see `ledsentry ports`)")
        }
        guard (0...50).contains(retries) else { throw ValidationError("--retries must be 0...50, not \(retries)") }
    }

    var resolvedPort: String? {
        port ?? ProcessInfo.processInfo.environment["LEDSENTRY_PORT"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func run() async throws {
        let outcome = try await InspectRun(
            port: resolvedPort!, source: source, productSerial: product, store: store, actor: actor.name,
            policyPath: policy, evidenceDir: evidenceDir.map { URL(fileURLWithPath: $0) }, retries: retries,
            clearEvents: clearEvents
        ).perform()
        if outcome.report.failedCaptures > 0 { throw ExitCode(4) }
        if outcome.summary.cases.contains(where: { $0.action != .absent }) { throw ExitCode(1) }
    }
}

/// Where the pictures come from (at most one).
struct CaptureOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A directory with one capture per pattern (white.jpg, red.png, ...).", valueName: "dir"))
    var captures: String?
    @Option(help: ArgumentHelp("A command that takes one picture into {out} ({pattern} is the pattern's name).", valueName: "command"))
    var camera: String?
    @Option(name: .customLong("simulated-camera"),
            help: ArgumentHelp("The emulator's --frame-out file: render it as a simulated camera would.", valueName: "frame-file"))
    var simulatedCamera: String?
    @Option(help: ArgumentHelp("Seconds to wait for the camera command.", valueName: "s")) var cameraTimeout: Int = 60
    @Option(help: ArgumentHelp("Milliseconds to wait after each pattern change before the capture.", valueName: "ms"))
    var settle: Int = 0
    @Option(help: ArgumentHelp("How capture values map to light: linear or srgb (default: sRGB for JPEG, linear for PNG/PGM/PPM).",
                               valueName: "linear|srgb"))
    var response: String?
    @Option(help: ArgumentHelp("Simulated camera: picture size (default: 1280x720, larger for walls over 128x72 LEDs).",
                               valueName: "WxH"))
    var cameraSize: String?
    @Option(help: "Simulated camera: seed of its pose, optics and noise.") var cameraSeed: UInt64 = 7

    func validate() throws {
        let given = [captures, camera, simulatedCamera].compactMap { $0 }
        guard given.count <= 1 else {
            throw ValidationError("give only one of --captures, --camera and --simulated-camera")
        }
        if let captures {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: captures, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--captures \(captures) is not a directory")
            }
        }
        if let camera, !camera.contains("{out}") {
            throw ValidationError("--camera must contain {out}, where the command writes the picture (e.g. gphoto2 ... --filename {out})")
        }
        guard (1...3600).contains(cameraTimeout) else { throw ValidationError("--camera-timeout must be 1...3600 seconds") }
        guard (0...60_000).contains(settle) else { throw ValidationError("--settle must be 0...60000 milliseconds") }
        if let cameraSize, parseScreen(cameraSize) == nil { throw ValidationError("--camera-size must look like 1280x720") }
        if let response, Response(rawValue: response.lowercased()) == nil {
            throw ValidationError("--response must be linear or srgb, not '\(response)'")
        }
    }

    /// The capture source; the simulated camera needs the wall's geometry, known after IDENTIFY.
    func source(wall: WallLayout) -> (any CaptureSource)? {
        if let captures { return DirectoryCaptures(directory: URL(fileURLWithPath: captures)) }
        if let camera { return CommandCamera(template: camera, timeout: .seconds(cameraTimeout)) }
        if let simulatedCamera {
            let size = cameraSize.flatMap(parseScreen).map { (width: $0.0, height: $0.1) }
            return SimulatedCamera(frameFile: URL(fileURLWithPath: simulatedCamera), wall: wall.ledGrid,
                                   moduleSize: wall.moduleGrid, size: size, seed: cameraSeed)
        }
        return nil
    }
}

/// One inspection and its warranty intake; shared by `inspect` and `demo`.
struct InspectRun {
    var port: String
    var source: CaptureOptions
    var productSerial: String
    var store: StoreOptions
    var actor: String
    var policyPath: String?
    var evidenceDir: URL?
    var retries: Int = 3
    var clearEvents = false

    struct Output: Codable {
        var inspection: InspectReport
        var warranty: WarrantyIntake.Summary
    }

    @discardableResult
    func perform() async throws -> (report: InspectReport, summary: WarrantyIntake.Summary) {
        try await inspectReporting(json: store.json) {
            // Everything that can be refused is checked before the wall is touched.
            let warrantyStore = try store.openStore()
            let policy = try policyPath.map { try WarrantyPolicy.load(from: URL(fileURLWithPath: $0)) } ?? WarrantyPolicy.builtIn()
            guard try warrantyStore.product(serial: productSerial) != nil else {
                throw RegistryError.unknownProduct(serial: productSerial)
            }
            let home = warrantyStore.path.deletingLastPathComponent()
            let runDirectory = evidenceDir ?? home.appendingPathComponent("runs").appendingPathComponent(Self.runName())

            var logger = Logger(label: "ledsentry.link")
            logger.logLevel = .warning
            let transport = try openPort(port, logger: logger)
            let printer = ProgressPrinter(quiet: store.json)
            var options = InspectOptions()
            options.productSerial = productSerial
            options.settleTime = .milliseconds(source.settle)
            options.clearEvents = clearEvents
            options.response = source.response.flatMap { Response(rawValue: $0.lowercased()) }
            let source = self.source
            let session = try InspectSession(transport: transport, camera: { source.source(wall: $0) }, evidenceDirectory: runDirectory,
                                             options: options, retries: retries) { printer.show($0) }
            let report = try await session.run()
            printer.show(InspectProgress(stage: "warranty intake: \(report.findings.findings.count) findings", done: 0, total: 0))

            let files = report.evidence.map { WarrantyIntake.EvidenceFile(url: URL(fileURLWithPath: $0.path), role: $0.role) }
            let summary = try WarrantyIntake(store: warrantyStore, policy: policy).ingest(
                findings: report.findings, productSerial: productSerial, evidence: files,
                options: .init(actor: actor, now: Date(), bundleDirectory: home.appendingPathComponent("bundles"),
                               coversWholeProduct: source.isPresent && report.failedCaptures == 0))
            await deliverHooks(warrantyStore, quiet: store.json)
            if store.json {
                print(String(decoding: try cliEncoder.encode(Output(inspection: report, warranty: summary)), as: UTF8.self))
            } else {
                Self.printSummary(report, summary)
            }
            for note in report.notes { FileHandle.standardError.write(Data("warning: \(note)\n".utf8)) }
            return (report, summary)
        }
    }

    static func runName() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: Date()) + "-\(getpid())"
    }

    static func printSummary(_ report: InspectReport, _ summary: WarrantyIntake.Summary) {
        let id = report.identity
        print("Inspected \(id.model) \(id.serial) on \(report.port): \(id.geometry.wallWidth)x\(id.geometry.wallHeight) LEDs, "
              + "\(id.geometry.cabinetCount) cabinets; \(report.findings.findings.count) findings")
        for capture in report.captures {
            print("  \(capture.pattern.padding(toLength: 6, withPad: " ", startingAt: 0)) "
                  + (capture.error.map { "NOT ANALYSED: \($0)" } ?? "\(capture.defects ?? 0) defective LEDs seen"))
        }
        print("Product \(summary.productSerial): \(summary.scope.explanation)")
        for missing in summary.missing { print("MISSING: \(missing)") }
        print("Standard: \(summary.standard)")
        if summary.cases.isEmpty {
            print("No finding breaks the policy: no case opened.")
        } else {
            printTable(["CASE", "ACTION", "FAULT", "WHERE", "CLASS", "SERVICE", "CLAUSE"],
                         summary.cases.map { [$0.reference, $0.action.rawValue, $0.kind.rawValue, $0.location,
                                              $0.faultClass.rawValue, $0.service.rawValue, $0.clause] })
            for line in summary.cases where line.action != .absent {
                print("\(line.reference): bundle \(line.bundle ?? "-")")
                // Pictures inside the bundle are named `BUNDLE#evidence/NAME`: list the names once.
                let inside = line.annotatedImages.compactMap { $0.split(separator: "#", maxSplits: 1).dropFirst().first.map(String.init) }
                if !inside.isEmpty && inside.count == line.annotatedImages.count {
                    print("  annotated pictures in the bundle: " + inside.joined(separator: ", "))
                } else {
                    line.annotatedImages.forEach { print("  annotated picture: \($0)") }
                }
            }
        }
        if summary.tolerated > 0 { print("\(summary.tolerated) finding(s) within the performance standard.") }
        for note in summary.notes { print("note: \(note)") }
        print("Evidence of this run: \(report.evidenceDirectory)")
    }
}

extension CaptureOptions {
    var isPresent: Bool { captures != nil || camera != nil || simulatedCamera != nil }
}

/// Stage lines on stderr; LED status percentages through `LinkProgress`.
final class ProgressPrinter: @unchecked Sendable {
    private let quiet: Bool
    private let lock = NSLock()
    private var lastStage = ""
    private let ledStatus = LinkProgress("reading LED status")

    init(quiet: Bool) { self.quiet = quiet }

    func show(_ progress: InspectProgress) {
        guard !quiet else { return }
        if progress.stage == "reading LED status" { return ledStatus.update(progress.done, progress.total) }
        lock.lock()
        defer { lock.unlock() }
        let line = progress.description
        guard line != lastStage else { return }
        lastStage = line
        FileHandle.standardError.write(Data("inspect: \(line)\n".utf8))
    }
}

/// Errors of an inspection in words, with the documented exit codes: the link and the
/// camera are 3, captures that cannot be read are 4, the warranty side as its commands.
func inspectReporting<T>(json: Bool, _ body: () async throws -> T) async throws -> T {
    func fail(_ message: String, _ code: Int32) -> ExitCode {
        if json { printJSON(["error": message, "exitCode": "\(code)"]) }
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode(code)
    }
    do {
        return try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ControllerError {
        throw fail(error.description, error.status == nil ? 3 : 1)
    } catch let error as LinkError {
        throw fail(error.description, 3)
    } catch let error as InspectError {
        switch error {
        case .capture(_, let cause):
            switch cause {
            case .missingCapture, .frameUnreadable, .frameMismatch: throw fail(error.description, 4)
            default: throw fail(error.description, 3)
            }
        case .evidenceDirectory: throw fail(error.description, 5)
        }
    } catch let error as CaptureError {
        throw fail(error.description, 5)
    } catch {
        throw fail(String(describing: error), warrantyExitCode(for: error))
    }
}
