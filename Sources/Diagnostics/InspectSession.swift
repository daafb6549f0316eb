import Foundation
import FrameAnalysis
import LEDControllers
import LEDLink

/// What an inspection is doing now, for progress lines.
public struct InspectProgress: Sendable, CustomStringConvertible {
    public var stage: String
    public var done: Int
    public var total: Int
    public var description: String { total > 0 ? "\(stage) (\(done)/\(total))" : stage }
    public init(stage: String, done: Int = 0, total: Int = 0) {
        self.stage = stage
        self.done = done
        self.total = total
    }
}

public struct InspectOptions: Sendable {
    /// In this order; white comes first because it is the black pattern's reference.
    public var patterns: [FrameAnalysis.TestPattern] = [.white, .red, .green, .blue, .black]
    /// The product (registry serial) the findings are for.
    public var productSerial: String?
    public var limits = TelemetryLimits()
    /// Time for a real display and camera to settle after a pattern change.
    public var settleTime: Duration = .zero
    /// Clear the controller's event log once it is saved as evidence, so the next inspection
    /// (after a repair) sees only new alarms. Off by default: the log is the customer's.
    public var clearEvents = false
    /// How capture values map to light; nil: by file format (sRGB for JPEG, linear otherwise).
    public var response: Response?
    public init() {}
}

/// A file the inspection kept as evidence, with its role.
public struct EvidenceFile: Codable, Sendable, Hashable {
    public var path: String
    public var role: EvidenceReference.Role
    public init(path: String, role: EvidenceReference.Role) { self.path = path; self.role = role }
    public var name: String { (path as NSString).lastPathComponent }
    var reference: EvidenceReference { EvidenceReference(name: name, role: role) }
}

public struct InspectReport: Codable, Sendable {
    public struct Capture: Codable, Sendable {
        public var pattern: String
        public var capture: String?
        public var annotated: String?
        public var defects: Int?
        /// Why this capture could not be taken or analysed.
        public var error: String?
    }
    public var port: String
    public var identity: Identity
    public var findings: FindingList
    public var evidence: [EvidenceFile]
    public var captures: [Capture]
    public var notes: [String]
    public var evidenceDirectory: String
    /// Captures that could not be analysed (the run continued without them).
    public var failedCaptures: Int { captures.filter { $0.error != nil }.count }
}

public enum InspectError: Error, CustomStringConvertible {
    case capture(pattern: String, CaptureError)
    case evidenceDirectory(path: String, reason: String)

    public var description: String {
        switch self {
        case let .capture(pattern, error): "capture of the \(pattern) pattern: \(error)"
        case let .evidenceDirectory(path, reason): "cannot use the evidence directory \(path): \(reason)"
        }
    }
}

/// One inspection of a display controller and its wall: identify, parameters, module tests,
/// telemetry and event log, per-LED status, then for each test pattern show it, take a
/// capture and analyse it; merge everything into Findings with their evidence files.
///
/// The link session is recorded (RecordingTransport) into the evidence directory, beside
/// the JSON dumps, the captures, the annotated pictures and the session's log.
///
/// `@unchecked Sendable`: the mutable state (log, evidence list, notes) is touched only by
/// `run()`, which is meant to be called once, from one task.
public final class InspectSession: @unchecked Sendable {
    public let client: ControllerClient
    public let port: String
    /// Chooses the capture source once the wall's geometry is known (a simulated camera needs it).
    public let camera: @Sendable (WallLayout) -> (any CaptureSource)?
    public let options: InspectOptions
    public let evidenceDirectory: URL
    private let progress: @Sendable (InspectProgress) -> Void
    private var log: [String] = []
    private var evidence: [EvidenceFile] = []
    private var notes: [String] = []

    /// - Parameters:
    ///   - transport: the opened port; it is wrapped to record the session as evidence.
    ///   - camera: the capture source for the wall; nil inspects electrically only.
    public init(transport: sending any Transport, camera: @escaping @Sendable (WallLayout) -> (any CaptureSource)?, evidenceDirectory: URL,
                options: InspectOptions = InspectOptions(), retries: Int = 3,
                progress: @escaping @Sendable (InspectProgress) -> Void = { _ in }) throws {
        do {
            try FileManager.default.createDirectory(at: evidenceDirectory, withIntermediateDirectories: true)
        } catch {
            throw InspectError.evidenceDirectory(path: evidenceDirectory.path, reason: error.localizedDescription)
        }
        let recording = evidenceDirectory.appendingPathComponent("link-session.rec")
        port = transport.portName
        client = ControllerClient(transport: try RecordingTransport(wrapping: transport, sessionPath: recording.path), retries: retries)
        self.camera = camera
        self.options = options
        self.evidenceDirectory = evidenceDirectory
        self.progress = progress
        evidence.append(EvidenceFile(path: recording.path, role: .linkRecording))
    }

    private func step(_ stage: String, _ done: Int = 0, _ total: Int = 0) {
        progress(InspectProgress(stage: stage, done: done, total: total))
        if total == 0 || done == total { say(stage) }
    }

    private let clock = ISO8601DateFormatter()

    private func say(_ line: String) {
        clock.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        log.append(clock.string(from: Date()) + " " + line)
    }

    private func keep(_ value: some Encodable, as name: String, role: EvidenceReference.Role, pretty: Bool = true) throws -> EvidenceFile {
        let url = evidenceDirectory.appendingPathComponent(name)
        try EvidenceDocuments.write(value, to: url, pretty: pretty)
        let file = EvidenceFile(path: url.path, role: role)
        evidence.append(file)
        return file
    }

    public func run() async throws -> InspectReport {
        defer { writeLog() }
        step("connecting to \(port)")
        try await client.hello()
        let identity = try await client.identify()
        let geometry = identity.geometry
        let layout = WallLayout(geometry)
        say("identity: \(identity.model) serial \(identity.serial) firmware \(identity.firmware), wall \(layout.width)x\(layout.height) LEDs in \(geometry.cabinetCount) cabinets")
        let cabinets = Array(0..<geometry.cabinetCount)

        // Parameters and cabinet identities.
        step("reading parameters")
        var cabinetRows: [EvidenceDocuments.ParameterDump.Cabinet] = []
        for cabinet in cabinets {
            let (info, refusal) = try await answered { try await self.client.cabinetInfo(UInt16(cabinet)) }
            cabinetRows.append(.init(cabinet: cabinet, info: info, error: refusal))
        }
        var parameters: [EvidenceDocuments.ParameterDump.Parameter] = []
        var unreadableParameters: [String: String] = [:]
        for known in ParameterID.known {
            let (reading, refusal) = try await answered { try await self.client.parameter(known.id) }
            if let r = reading {
                parameters.append(.init(name: known.name, id: Int(known.id.rawValue), value: Int(r.value),
                                        min: Int(r.minimum), max: Int(r.maximum), unit: known.unit))
            }
            unreadableParameters[known.name] = refusal
        }
        _ = try keep(EvidenceDocuments.ParameterDump(port: port, identity: identity, cabinets: cabinetRows,
                                                     parameters: parameters, unreadableParameters: unreadableParameters),
                     as: "parameters.json", role: .parameterDump)

        // Module tests, telemetry, events.
        var reports: [ModuleTestReport] = []
        var unreadable: [Int: String] = [:]
        var telemetry: [Telemetry] = []
        for cabinet in cabinets {
            step("module test", cabinet + 1, cabinets.count)
            let (report, refusal) = try await answered { try await self.client.moduleTest(cabinet: UInt16(cabinet)) }
            if let report { reports.append(report) }
            unreadable[cabinet] = refusal
            if unreadable[cabinet] == nil {
                let (reading, refusal) = try await answered { try await self.client.telemetry(cabinet: UInt16(cabinet)) }
                if let reading { telemetry.append(reading) }
                if let refusal { notes.append("cabinet \(cabinet) gave no telemetry: \(refusal)") }
            }
        }
        let moduleFile = try keep(EvidenceDocuments.ModuleTests(reports, unreadable: unreadable), as: "module-test.json", role: .moduleTest)
        step("reading the event log")
        let (logged, eventRefusal) = try await answered { try await self.client.events() }
        let events = logged ?? []
        if let eventRefusal { notes.append("the controller's event log could not be read: \(eventRefusal)") }
        let healthFile = try keep(EvidenceDocuments.Health(telemetry: telemetry, events: events,
                                                           unreadableCabinets: Dictionary(uniqueKeysWithValues: unreadable.map { (String($0.key), $0.value) })),
                                  as: "telemetry-events.json", role: .other)
        if options.clearEvents {
            say("cleared \(try await client.clearEvents()) events from the controller's log (saved in telemetry-events.json)")
        }

        // Per-LED status.
        let progress = self.progress
        let status = try await client.readWallStatus(identity: identity) { done, total in
            progress(InspectProgress(stage: "reading LED status", done: done, total: total))
        }
        say("LED status read: \(status.faults.count) failed LED channels")
        let statusFile = try keep(EvidenceDocuments.StatusReadback(status), as: "led-status.json", role: .statusReadback, pretty: false)

        // Test patterns: show, capture, analyse.
        var optical: [OpticalResult] = []
        var captureRows: [InspectReport.Capture] = []
        if let camera = camera(layout) {
            say("captures from \(camera.name)")
            var reference: (image: Image, response: Response)?
            for (i, pattern) in options.patterns.enumerated() {
                step("pattern \(pattern.rawValue): show, capture, analyse", i + 1, options.patterns.count)
                _ = try await client.showPattern(LEDControllers.TestPattern(name: pattern.rawValue)!)
                if options.settleTime > .zero { try await Task.sleep(for: options.settleTime) }
                let file: URL
                do { file = try await camera.capture(pattern, into: evidenceDirectory) } catch {
                    _ = try? await client.showPattern(.normalVideo)
                    throw InspectError.capture(pattern: pattern.rawValue, error)
                }
                evidence.append(EvidenceFile(path: file.path, role: .capture))
                var row = InspectReport.Capture(pattern: pattern.rawValue, capture: file.path)
                do {
                    let (image, format) = try ImageFiles.read(path: file.path)
                    let response = options.response ?? Response.default(for: format)
                    if pattern == .white { reference = (image, response) }
                    let result = try analyse(image, response: response, file: file, pattern: pattern, layout: layout,
                                             reference: pattern == .black ? reference : nil)
                    optical.append(result)
                    row.annotated = result.evidence.first { $0.role == .annotatedImage }.map { evidenceDirectory.appendingPathComponent($0.name).path }
                    row.defects = result.defects.defects.count
                } catch {
                    row.error = "\(error)"
                    notes.append("the \(pattern.rawValue) capture \(file.path) could not be analysed: \(error)")
                    say("\(pattern.rawValue): not analysed: \(error)")
                }
                captureRows.append(row)
            }
            _ = try? await client.showPattern(.normalVideo)
        } else {
            notes.append("no camera: the inspection is electrical only (give --captures, --camera or --simulated-camera)")
        }

        // Findings.
        step("merging findings")
        let context = FindingContext(productSerial: options.productSerial)
        let modules = ControllerFindings.moduleTests(reports, unreadable: unreadable.merging(status.unreadableCabinets) { a, _ in a },
                                                     modulesPerCabinet: geometry.modulesPerCabinet,
                                                     context: context, evidence: [moduleFile.reference])
        var moduleFindings = modules.findings
        let display = DisplayFindings(layout: layout, context: context).findings(
            electrical: status.defectMap, electricalEvidence: [statusFile.reference], optical: optical,
            moduleFindings: &moduleFindings, darkModules: modules.darkModules, driverICModules: modules.driverICModules)
        let health = ControllerFindings.telemetry(telemetry, limits: options.limits, context: context, evidence: [healthFile.reference])
            + ControllerFindings.events(events, context: context, evidence: [healthFile.reference])
        var findings = FindingMerger.merge(moduleFindings + display + health)
        let now = Date()
        // A fault no camera can see (a checksum, a temperature) still gets a photograph of the
        // wall as it was: the annotated white capture (3.2.3 b asks for photos).
        let overview = optical.first { $0.pattern == .white }?.evidence.filter { $0.role == .annotatedImage } ?? []
        for i in findings.indices {
            findings[i].observedAt = now
            findings[i].attributes["sending-card"] = identity.serial
            if !findings[i].evidence.contains(where: { $0.role == .annotatedImage }) { findings[i].evidence += overview }
        }
        say("\(findings.count) findings")
        evidence.append(EvidenceFile(path: logURL.path, role: .log))
        let list = FindingList(productSerial: options.productSerial, screen: .init(width: layout.width, height: layout.height),
                               findings: findings)
        // The findings file `ledsentry cases ingest --findings` reads (a run can be ingested again,
        // or elsewhere); not evidence itself: the intake keeps its own fault list.
        try EvidenceDocuments.write(list, to: evidenceDirectory.appendingPathComponent("findings.json"))
        return InspectReport(port: port, identity: identity, findings: list,
                             evidence: evidence, captures: captureRows, notes: notes, evidenceDirectory: evidenceDirectory.path)
    }

    /// Analyses one capture and keeps its annotated picture as evidence.
    private func analyse(_ image: Image, response: Response, file: URL, pattern: FrameAnalysis.TestPattern, layout: WallLayout,
                         reference: (image: Image, response: Response)?) throws -> OpticalResult {
        let result = try FrameAnalyzer.analyze(
            image, options: AnalysisOptions(grid: layout.ledGrid, pattern: pattern, module: layout.moduleGrid),
            response: response, reference: reference)
        let annotated = evidenceDirectory.appendingPathComponent("annotated-\(pattern.rawValue).png")
        try ImageFiles.write(Annotator.annotate(image, result: result, response: response), to: annotated.path)
        let annotatedFile = EvidenceFile(path: annotated.path, role: .annotatedImage)
        evidence.append(annotatedFile)
        say("\(pattern.rawValue): \(result.defects.defects.count) defective LEDs seen in \(file.lastPathComponent)")
        return OpticalResult(pattern: pattern, defects: result.defects, relativeLevels: result.relativeLevels,
                             evidence: [EvidenceFile(path: file.path, role: .capture).reference, annotatedFile.reference])
    }

    /// The answer, or the device's refusal in words (a status such as HARDWARE_FAULT for an
    /// offline cabinet); link errors end the inspection.
    private func answered<T: Sendable>(_ body: () async throws -> T) async throws -> (T?, String?) {
        do {
            return (try await body(), nil)
        } catch let error as ControllerError where error.status != nil {
            return (nil, error.description)
        }
    }

    private var logURL: URL { evidenceDirectory.appendingPathComponent("inspect.log") }

    private func writeLog() {
        try? Data((log.joined(separator: "\n") + "\n").utf8).write(to: logURL, options: .atomic)
    }
}
