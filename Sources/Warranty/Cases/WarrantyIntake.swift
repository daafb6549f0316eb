import Diagnostics
import Foundation

/// Turns the findings of one diagnostic run into warranty cases: apply the policy, store the
/// evidence, open or update cases without duplicates, note faults that went away, export the
/// bundles and (through the caller) fire the hooks. `ledsentry inspect` ends here, and
/// `ledsentry cases ingest` drives it from files.
///
/// It lives in Warranty, not Diagnostics, because rooms only import the rooms below them:
/// Diagnostics produces `Finding`s and knows nothing of policies or stores.
public struct WarrantyIntake: Sendable {
    public let store: WarrantyStore
    public let policy: WarrantyPolicy

    public init(store: WarrantyStore, policy: WarrantyPolicy) {
        self.store = store
        self.policy = policy
    }

    /// A file handed over as evidence; the role is guessed from the name when not given.
    public struct EvidenceFile: Sendable {
        public var url: URL
        public var role: EvidenceReference.Role
        public init(url: URL, role: EvidenceReference.Role? = nil) {
            self.url = url
            self.role = role ?? Self.guessRole(url.lastPathComponent)
        }

        public static func guessRole(_ name: String) -> EvidenceReference.Role {
            let lower = name.lowercased()
            let ext = (lower as NSString).pathExtension
            if ["png", "jpg", "jpeg", "tif", "tiff", "dng", "cr2", "nef", "raw"].contains(ext) {
                return lower.contains("annot") ? .annotatedImage : .capture
            }
            if ["mp4", "mov", "avi", "mkv", "webm"].contains(ext) { return .video }
            if lower.contains("param") { return .parameterDump }
            if lower.contains("status") || lower.contains("readback") { return .statusReadback }
            if lower.contains("module") && lower.contains("test") { return .moduleTest }
            if lower.contains("link") || lower.contains("session") || ext == "rec" { return .linkRecording }
            if ext == "log" { return .log }
            if lower.contains("fault") { return .faultList }
            return .other
        }
    }

    public struct Options: Sendable {
        public var actor: String
        public var now: Date
        public var screen: FindingList.ScreenSize?
        /// Where to write one evidence bundle per touched case; nil writes none.
        public var bundleDirectory: URL?
        /// False for a run that looked at part of the product only: then absent faults are not noted.
        public var coversWholeProduct: Bool
        /// Told what is being done, one line per step (storing a large capture takes a while).
        public var progress: (@Sendable (String) -> Void)?
        public init(actor: String = "ledsentry", now: Date = Date(), screen: FindingList.ScreenSize? = nil,
                    bundleDirectory: URL? = nil, coversWholeProduct: Bool = true,
                    progress: (@Sendable (String) -> Void)? = nil) {
            self.progress = progress
            self.actor = actor
            self.now = now
            self.screen = screen
            self.bundleDirectory = bundleDirectory
            self.coversWholeProduct = coversWholeProduct
        }
    }

    public struct Summary: Codable, Sendable {
        public struct CaseLine: Codable, Sendable {
            public enum Action: String, Codable, Sendable { case opened, updated, absent }
            public var id: Int64
            public var reference: String
            public var action: Action
            public var kind: FaultKind
            public var location: String
            public var faultClass: FaultClass
            public var service: ServiceType
            public var clause: String
            public var state: CaseState
            public var bundle: String?
            public var annotatedImages: [String]
        }
        public var runID: String
        public var productSerial: String
        public var scope: ScopeDecision
        public var missing: [String]
        public var standard: String
        public var cases: [CaseLine]
        public var tolerated: Int
        public var notes: [String]
        public var evidenceDirectory: String
        /// Hook deliveries made at the end of the run (nil when hooks were not run).
        public var hooks: HookDispatcher.Report?
    }

    /// The whole end of an inspection: `ingest`, then deliver the hook events it created.
    /// A receiver that is down does not fail the run: its events wait in the outbox.
    public func ingestAndNotify(findings list: FindingList, productSerial: String, evidence files: [EvidenceFile],
                                options: Options = Options()) async throws -> Summary {
        var summary = try ingest(findings: list, productSerial: productSerial, evidence: files, options: options)
        if !store.hooks.isEmpty {
            options.progress?("delivering hook events")
            summary.hooks = await HookDispatcher(store: store).deliverDue()
        }
        return summary
    }

    public func ingest(findings list: FindingList, productSerial: String, evidence files: [EvidenceFile],
                       options: Options = Options()) throws -> Summary {
        guard let product = try store.product(serial: productSerial) else {
            throw RegistryError.unknownProduct(serial: productSerial)
        }
        if let listed = list.productSerial, listed != productSerial {
            throw IntakeError.productMismatch(file: listed, given: productSerial)
        }
        for file in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file.url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  FileManager.default.isReadableFile(atPath: file.url.path) else {
                throw EvidenceError.unreadable(path: file.url.path)
            }
        }
        var notes: [String] = []
        let supplied = Set(files.map(\.url.lastPathComponent))
        for name in Set(list.findings.flatMap { $0.evidence.map(\.name) }) where !supplied.contains(name) {
            notes.append("a finding names evidence '\(name)', which was not supplied with --evidence")
        }

        let engine = PolicyEngine(policy: policy)
        let screen = (list.screen ?? options.screen).map { (width: $0.width, height: $0.height) }
        let assessment = engine.assess(findings: list.findings, product: product, on: options.now, screen: screen)
        notes += assessment.notes
        let runID = UUID().uuidString.lowercased()

        // Files first, fsynced and renamed under their digest; only then the transaction
        // that references them (a crash in between leaves unreferenced files, never a case
        // pointing at a missing file).
        var stored: [String: WarrantyStore.StoredEvidence] = [:]
        for (i, file) in files.enumerated() {
            options.progress?("storing evidence \(i + 1)/\(files.count): \(file.url.lastPathComponent)")
            let s = try store.evidence.store(fileAt: file.url)
            stored[file.url.lastPathComponent] = .init(name: file.url.lastPathComponent, role: file.role,
                                                       sha256: s.sha256, size: s.size)
        }
        let faultList = try store.evidence.store(data: try Self.faultListJSON(runID: runID, list: list, assessment: assessment))
        let faultListRef = WarrantyStore.StoredEvidence(name: "fault-list-\(runID.prefix(8)).json", role: .faultList,
                                                        sha256: faultList.sha256, size: faultList.size)

        // A file a finding names goes to that finding's case; a file no finding names (a log,
        // a link recording, a parameter dump) belongs to the whole run, so to every case.
        let named = Set(list.findings.flatMap { $0.evidence.map(\.name) })
        let general = stored.values.filter { !named.contains($0.name) }.sorted { $0.name < $1.name }
        var perFault: [String: [WarrantyStore.StoredEvidence]] = [:]
        for fault in assessment.faults {
            var refs: [WarrantyStore.StoredEvidence] = []
            for ref in fault.findings.flatMap(\.evidence) {
                guard var file = stored[ref.name] else { continue }
                if ref.role != .other { file.role = ref.role }
                if !refs.contains(file) { refs.append(file) }
            }
            // An on-site case needs photos for its fault description (3.2.3 b): it gets every
            // picture and video of the run, not only those its own findings name.
            if fault.service.type == .onSite {
                for file in stored.values.sorted(by: { $0.name < $1.name })
                where [.capture, .annotatedImage, .video].contains(file.role) && !refs.contains(file) && !general.contains(file) {
                    refs.append(file)
                }
            }
            perFault[fault.fingerprint] = refs + general + [faultListRef]
        }

        options.progress?("recording \(assessment.faults.count) faults")
        let outcome = try store.record(.init(runID: runID, product: product, assessment: assessment,
                                             actor: options.actor, at: options.now, evidence: perFault,
                                             coversWholeProduct: options.coversWholeProduct))

        var lines: [Summary.CaseLine] = []
        for (ids, action) in [(outcome.opened, Summary.CaseLine.Action.opened), (outcome.updated, .updated), (outcome.absent, .absent)] {
            for id in ids {
                let c = try store.warrantyCase(id: id)
                var bundlePath: String?
                if let dir = options.bundleDirectory, action != .absent {
                    options.progress?("writing bundle \(c.reference)")
                    let url = dir.appendingPathComponent("\(c.reference).zip")
                    let written = try EvidenceBundle.write(case: c, store: store, to: url)
                    try store.noteExport(caseID: id, bundle: url.path, manifestSHA256: written.manifestSHA256,
                                         actor: options.actor, at: options.now)
                    bundlePath = url.path
                }
                // Pictures are named as people see them: inside the bundle when there is one.
                let pictures = c.evidence.filter { $0.role == .annotatedImage }.map { item in
                    bundlePath.map { "\($0)#evidence/\(EvidenceBundle.bundleName(item, in: c))" }
                        ?? store.evidence.url(for: item.sha256).path
                }
                lines.append(.init(id: id, reference: c.reference, action: action, kind: c.kind,
                                   location: c.location.description, faultClass: c.faultClass.class,
                                   service: c.service.type, clause: c.service.clause, state: c.state, bundle: bundlePath,
                                   annotatedImages: pictures))
            }
        }
        return Summary(runID: runID, productSerial: productSerial, scope: assessment.scope, missing: assessment.missing.map(\.text),
                       standard: assessment.standard, cases: lines.sorted { $0.id < $1.id },
                       tolerated: assessment.tolerated.count, notes: notes,
                       evidenceDirectory: store.evidence.root.path, hooks: nil)
    }

    /// The fault list kept as evidence: every finding of the run and what the policy said.
    static func faultListJSON(runID: String, list: FindingList, assessment: Assessment) throws -> Data {
        struct FaultListFile: Codable {
            var runID: String
            var screen: FindingList.ScreenSize?
            var assessment: Assessment
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(FaultListFile(runID: runID, screen: list.screen, assessment: assessment))
    }
}

public enum IntakeError: Error, Equatable, CustomStringConvertible {
    case productMismatch(file: String, given: String)
    case badFindings(path: String, reason: String)

    public var description: String {
        switch self {
        case let .productMismatch(file, given):
            "the findings file is for product \(file), but --product \(given) was given"
        case let .badFindings(path, reason): "cannot read findings file \(path): \(reason)"
        }
    }
}
