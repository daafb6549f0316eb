import ArgumentParser
import Dispatch
import FrameAnalysis
import Foundation

/// `ledsentry analyze`: dead, dim and stuck LEDs, dead lines and modules in camera captures.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Find dead, dim and stuck LEDs, dead lines and dead modules in photos of a display.",
        discussion: """
            Photograph the whole display while it shows a test pattern: tilt up to 15 degrees, rotation up to 5, the display filling 40-95% of the frame, 3-10 camera pixels per LED. Captures: binary PGM/PPM (P5/P6, 8/16 bit), PNG, JPEG (EXIF orientation honoured).

            dead: under 30% of the LED's expected local level; dim: 30-70%; stuck: lit in the black pattern at over 30% of its white level. Colour patterns are measured in their own channel. The black pattern needs --reference, a capture of the same scene from the same camera position showing white; with several captures the reference is registered once.

            Examples:
              ledsentry analyze --grid 128x64 --pattern white wall.png
              ledsentry analyze --grid 128x64 --pattern black --reference w.jpg b.jpg
              ledsentry analyze --grid 128x64 --pattern red --json --annotate out/ *.jpg

            Exit codes: 0 no defects; 1 defects found; 2 bad command line; 4 a capture could not be read or analysed (the others are still analysed). Method and JSON keys: Docs/frame-analysis.md.
            """)

    @Option(help: ArgumentHelp("The display's LED grid, columns x rows.", valueName: "COLSxROWS"))
    var grid: String

    @Option(help: "Test pattern shown: white, red, green, blue or black.")
    var pattern: String

    @Option(help: ArgumentHelp("A capture of the same scene showing white; gives the geometry (required for black).",
                               valueName: "REF"))
    var reference: String?

    @Option(help: "How capture values map to light: linear or srgb (default: srgb for JPEG, linear otherwise).")
    var response: String?

    @Option(help: ArgumentHelp("Module size for grouping dead modules.", valueName: "WxH"))
    var module: String = "64x32"

    @Flag(help: "One JSON object per capture per line.")
    var json = false

    @Option(help: ArgumentHelp("Write an annotated PNG per capture into this directory.", valueName: "DIR"))
    var annotate: String?

    @Argument(help: ArgumentHelp("Captures to analyse.", valueName: "CAPTURE"))
    var captures: [String] = []

    /// Cross-flag checks. Exits with the project's usage code 2 (ArgumentParser's own
    /// ValidationError would exit 64).
    func validate() throws {
        func usage(_ message: String) throws -> Never {
            standardError("Error: \(message)\n\(Self.usageString())\n  See 'ledsentry analyze --help'.")
            throw ExitCode(2)
        }
        guard LEDGrid(parsing: grid) != nil else { try usage("--grid must look like 128x64, got '\(grid)'") }
        guard let parsed = TestPattern(rawValue: pattern.lowercased()) else {
            try usage("--pattern must be white, red, green, blue or black, got '\(pattern)'")
        }
        if parsed == .black && reference == nil {
            try usage("the black pattern needs --reference REF, a capture of the same scene showing white")
        }
        if let response, Response(rawValue: response.lowercased()) == nil {
            try usage("--response must be linear or srgb, got '\(response)'")
        }
        guard LEDGrid(parsing: module) != nil else { try usage("--module must look like 64x32, got '\(module)'") }
        guard !captures.isEmpty else { try usage("give at least one CAPTURE") }
    }

    func run() throws {
        let options = AnalysisOptions(grid: LEDGrid(parsing: grid)!, pattern: TestPattern(rawValue: pattern.lowercased())!,
                                      response: response.flatMap { Response(rawValue: $0.lowercased()) },
                                      module: LEDGrid(parsing: module)!)
        if let annotate {
            do {
                try FileManager.default.createDirectory(atPath: annotate, withIntermediateDirectories: true)
            } catch {
                standardError("cannot create --annotate directory \(annotate): \(error.localizedDescription)")
                throw ExitCode(4)
            }
        }
        // The reference is read and registered once for the whole batch.
        var referenceCapture: WhiteReference? = nil
        if let reference {
            do {
                let (image, format) = try ImageFiles.read(path: reference)
                referenceCapture = try WhiteReference(image: image, response: options.response ?? .default(for: format),
                                                      grid: options.grid)
            } catch let error as ImageFileError {
                standardError("reference \(error)")
                throw ExitCode(4)
            } catch {
                standardError("reference \(reference): \(error)")
                throw ExitCode(4)
            }
        }
        let outcomes = CaptureBatch.run(captures, options: options, reference: referenceCapture,
                                        annotateDirectory: annotate, progress: !json && captures.count > 1)
        var worst: Int32 = 0
        for outcome in outcomes {
            switch outcome {
            case .failure(let path, let message):
                standardError("\(path): \(message)")
                if json { print(AnalysisJSON.error(path: path, message: message)) }
                worst = 4
            case .success(let report):
                print(json ? AnalysisJSON.line(report) : AnalysisTable.render(report))
                if !report.result.defects.isEmpty && worst == 0 { worst = 1 }
            }
        }
        if worst != 0 { throw ExitCode(worst) }
    }
}

/// One capture's analysis, ready to print.
struct CaptureReport {
    let path: String
    let response: Response
    let result: AnalysisResult
    let annotation: String?
}

enum CaptureOutcome {
    case success(CaptureReport)
    case failure(path: String, message: String)
}

/// Analyses captures in parallel on all cores; results come back in input order.
enum CaptureBatch {
    static func run(_ paths: [String], options: AnalysisOptions, reference: WhiteReference?,
                    annotateDirectory: String?, progress: Bool) -> [CaptureOutcome] {
        let results = OutcomeSlots(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            let outcome = analyse(paths[index], options: options, reference: reference, annotateDirectory: annotateDirectory)
            let done = results.store(outcome, at: index)
            if progress { standardError("analysed \(done)/\(paths.count): \(paths[index])") }
        }
        return results.all
    }

    static func analyse(_ path: String, options: AnalysisOptions, reference: WhiteReference?,
                        annotateDirectory: String?) -> CaptureOutcome {
        let image: Image, format: ImageFileFormat
        do { (image, format) = try ImageFiles.read(path: path) } catch {
            return .failure(path: path, message: error.description.replacingOccurrences(of: "\(path): ", with: ""))
        }
        let response = options.response ?? .default(for: format)
        let result: AnalysisResult
        do {
            result = try FrameAnalyzer.analyze(image, options: options, response: response, reference: reference)
        } catch {
            return .failure(path: path, message: error.description)
        }
        var annotation: String? = nil
        if let annotateDirectory {
            let name = (path as NSString).lastPathComponent
            let target = (annotateDirectory as NSString).appendingPathComponent(
                ((name as NSString).deletingPathExtension) + "-annotated.png")
            do {
                try ImageFiles.write(Annotator.annotate(image, result: result, response: response), to: target, format: .png)
                annotation = target
            } catch {
                return .failure(path: path, message: "annotation: \(error)")
            }
        }
        return .success(CaptureReport(path: path, response: response, result: result, annotation: annotation))
    }
}

/// Thread-safe result slots for the parallel batch.
final class OutcomeSlots: @unchecked Sendable {
    private var slots: [CaptureOutcome?]
    private var finished = 0
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func store(_ outcome: CaptureOutcome, at index: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        slots[index] = outcome
        finished += 1
        return finished
    }
    var all: [CaptureOutcome] {
        lock.lock(); defer { lock.unlock() }
        return slots.map { $0! }
    }
}

private func standardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Human-readable report.
enum AnalysisTable {
    static let listedDefects = 40

    static func render(_ report: CaptureReport) -> String {
        let r = report.result
        let counts = Dictionary(grouping: r.defects.defects, by: \.kind).mapValues(\.count)
        var lines: [String] = []
        lines.append("\(report.path): \(r.grid) \(r.pattern.rawValue), \(r.defects.defects.count) defective (dead \(counts[.dead] ?? 0), dim \(counts[.dim] ?? 0), stuck \(counts[.stuck] ?? 0))")
        lines.append(String(format: "  %.0f defects per million, pixel fault class %@, %.1f camera pixels per LED",
                            r.defects.defectsPerMillion, r.faultClass.name, r.registration.pixelsPerLED))
        if let u = r.uniformity {
            lines.append(String(format: "  uniformity: LED-to-LED sd %.1f%%, p5-p95 %.2f-%.2f, field min/max %.2f",
                                u.ledStandardDeviation * 100, u.p5, u.p95, u.fieldMinOverMax))
        }
        for m in r.groups.modules {
            lines.append("  dead module (\(m.column),\(m.row)): LEDs x \(m.x)-\(m.x + m.width - 1), y \(m.y)-\(m.y + m.height - 1)")
        }
        for l in r.groups.lines {
            lines.append(l.orientation == .row ? "  dead row \(l.index): x \(l.from)-\(l.to)" : "  dead column \(l.index): y \(l.from)-\(l.to)")
        }
        for c in r.groups.clusters {
            lines.append("  cluster of \(c.count) at x \(c.x)-\(c.x + c.width - 1), y \(c.y)-\(c.y + c.height - 1) (\(c.kinds.map(\.rawValue).joined(separator: ", ")))")
        }
        if !r.defects.isEmpty {
            lines.append("     x     y  kind   channel")
            for d in r.defects.defects.prefix(listedDefects) {
                lines.append(String(format: "  %4d  %4d  %@  %@", d.x, d.y, d.kind.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0), d.channel.rawValue))
            }
            if r.defects.defects.count > listedDefects {
                lines.append("  ... \(r.defects.defects.count - listedDefects) more (use --json for the full list)")
            }
        }
        for warning in r.registration.warnings { lines.append("  warning: \(warning)") }
        if let annotation = report.annotation { lines.append("  annotated: \(annotation)") }
        return lines.joined(separator: "\n")
    }
}

/// The `--json` line: a contract (keys documented in Docs/frame-analysis.md).
enum AnalysisJSON {
    static func error(path: String, message: String) -> String {
        object([("capture", string(path)), ("error", string(message))])
    }

    static func line(_ report: CaptureReport) -> String {
        let r = report.result
        let defects = r.defects.defects.map {
            object([("x", "\($0.x)"), ("y", "\($0.y)"), ("kind", string($0.kind.rawValue)), ("channel", string($0.channel.rawValue))])
        }
        let counts = Dictionary(grouping: r.defects.defects, by: \.kind).mapValues(\.count)
        let lines = r.groups.lines.map {
            object([("orientation", string($0.orientation.rawValue)), ("index", "\($0.index)"), ("from", "\($0.from)"),
                    ("to", "\($0.to)"), ("length", "\($0.length)"), ("channel", string($0.channel.rawValue))])
        }
        let modules = r.groups.modules.map {
            object([("column", "\($0.column)"), ("row", "\($0.row)"), ("x", "\($0.x)"), ("y", "\($0.y)"),
                    ("width", "\($0.width)"), ("height", "\($0.height)"), ("deadFraction", number($0.deadFraction)),
                    ("channel", string($0.channel.rawValue))])
        }
        let clusters = r.groups.clusters.map {
            object([("x", "\($0.x)"), ("y", "\($0.y)"), ("width", "\($0.width)"), ("height", "\($0.height)"),
                    ("count", "\($0.count)"), ("kinds", array($0.kinds.map { string($0.rawValue) }))])
        }
        let uniformity = r.uniformity.map {
            object([("ledStandardDeviation", number($0.ledStandardDeviation)), ("p5", number($0.p5)), ("p95", number($0.p95)),
                    ("fieldMinOverMax", number($0.fieldMinOverMax))])
        } ?? "null"
        let fault = r.faultClass
        let faultClass = object([("class", string(fault.name)), ("type1PerMillion", number(fault.type1PerMillion)),
                                 ("type2PerMillion", number(fault.type2PerMillion)), ("type3PerMillion", number(fault.type3PerMillion)),
                                 ("clustersPerMillion", number(fault.clustersPerMillion))])
        let registration = object([
            ("outline", array(r.registration.outline.map { array([number($0.x), number($0.y)]) })),
            ("pixelsPerLED", number(r.registration.pixelsPerLED)), ("lensRadial", number(r.registration.lens.k)),
        ])
        var fields: [(String, String)] = [
            ("capture", string(report.path)),
            ("grid", object([("cols", "\(r.grid.cols)"), ("rows", "\(r.grid.rows)")])),
            ("pattern", string(r.pattern.rawValue)),
            ("defects", array(defects)),
            ("counts", object([("dead", "\(counts[.dead] ?? 0)"), ("dim", "\(counts[.dim] ?? 0)"), ("stuck", "\(counts[.stuck] ?? 0)")])),
            ("lines", array(lines)), ("modules", array(modules)), ("clusters", array(clusters)),
            ("uniformity", uniformity),
            ("defectsPerMillion", number(r.defects.defectsPerMillion)),
            ("pixelFaultClass", faultClass),
            ("response", string(report.response.rawValue)),
            ("registration", registration),
            ("warnings", array(r.registration.warnings.map { string($0) })),
        ]
        if let annotation = report.annotation { fields.append(("annotation", string(annotation))) }
        return object(fields)
    }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
    static func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.6g", value) : "null"
    }
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
