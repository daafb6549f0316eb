import ArgumentParser
import Diagnostics
import Foundation
import Warranty

struct CasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "Warranty cases: open them from findings, follow them through the policy's service processes.",
        discussion: """
            A finding that breaks the warranty policy opens a case; the same fault on the same product \
            (same place, same kind) never opens a second one. See Docs/warranty.md for the workflow.

            Exit codes: 0 ok; 1 command failed or verification found a problem; 2 bad command line; \
            4 bad input file; 5 store error (corrupt or foreign database).
            """,
        subcommands: [List.self, Show.self, Ingest.self, Transition.self, Export.self, Verify.self, Check.self, GC.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cases, newest last.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this product's cases.") var product: String?
        @Option(help: "Only cases in this state.") var state: String?
        @Flag(help: "Only cases whose process is not finished.") var open = false

        func run() async throws {
            try await runReporting(json: store.json) {
                var wanted: CaseState?
                if let state {
                    guard let s = CaseState(rawValue: state) else {
                        throw ValidationError("unknown state '\(state)'; states: " + CaseState.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    wanted = s
                }
                let cases = try store.openStore().cases(.init(productSerial: product, state: wanted, openOnly: open))
                if store.json { printJSON(cases); return }
                printTable(["CASE", "PRODUCT", "FAULT", "WHERE", "CLASS", "SERVICE", "CLAUSE", "STATE", "SEEN"],
                           cases.map { c in
                               [c.reference, c.product.serial, c.kind.rawValue, c.location.description, c.faultClass.class.rawValue,
                                c.service.type.rawValue, c.service.clause, c.state.rawValue,
                                c.absentSince == nil ? "\(c.occurrences)x" : "\(c.occurrences)x, now absent"]
                           })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one case: decisions, evidence and history.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Case number, e.g. 12 or CASE-000012.") var caseID: String

        func run() async throws {
            try await runReporting(json: store.json) {
                let warrantyStore = try store.openStore()
                let c = try warrantyStore.warrantyCase(id: try parseCaseID(caseID))
                if store.json { printJSON(c); return }
                print("\(c.reference)  \(c.kind.rawValue) at \(c.location.description)  [\(c.state.rawValue): \(c.stateMeaning)]")
                print("Product:   \(c.product.serial) \(c.product.model), \(c.product.customer)")
                print("Scope:     \(c.scope.status.rawValue) (clause \(c.scope.clause)): \(c.scope.explanation)")
                for m in c.missing { print("MISSING:   \(m)") }
                print("Fault:     \(c.summary)")
                print("Class:     \(c.faultClass.class.rawValue) (clause \(c.faultClass.clause)): \(c.faultClass.reason)")
                print("Service:   \(c.service.type.rawValue) (clause \(c.service.clause)): \(c.service.explanation)")
                for (i, step) in c.service.steps.enumerated() { print("  step \(i + 1): \(step)") }
                if let rma = c.rmaNumber { print("RMA:       \(rma), deliver to \(c.deliveryAddress ?? "?")") }
                if let absent = c.absentSince { print("Absent:    fault not seen since \(absent)") }
                print("Seen:      \(c.occurrences) run(s), last \(c.lastSeenAt)")
                print("\nEvidence (\(c.evidence.count)):")
                for e in c.evidence {
                    print("  \(e.role.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(e.name) \(e.size) B  \(warrantyStore.evidence.url(for: e.sha256).path)")
                }
                print("\nHistory:")
                for h in c.history {
                    let move = h.toState.map { " -> \($0.rawValue)" } ?? ""
                    print("  \(h.at)  \(h.actor)  \(h.event.rawValue)\(move): \(h.note)")
                }
                let next = CaseState.moves[c.state, default: [:]].keys.map(\.rawValue).sorted()
                print("\nNext: " + (next.isEmpty ? "none (closed)" : next.joined(separator: ", ")))
            }
        }
    }

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open or update cases from a findings file and its evidence (what `inspect` does at its end).",
            discussion: """
                FILE.json holds the findings of one run: a JSON array of findings, or \
                {"screen": {"width": W, "height": H}, "findings": [...]}. Evidence files are stored once by \
                SHA-256; a finding may name one in its "evidence" list, other files go to every case of the run. \
                Prefix a path with ROLE= to set its role (capture, annotated-image, video, parameter-dump, \
                module-test, status-readback, link-recording, log); otherwise it is guessed from the name.
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var actor: ActorOption
        @Option(help: "The product's serial number (must be in the registry).") var product: String
        @Option(help: "Findings file (JSON).") var findings: String
        @Option(parsing: .upToNextOption, help: "Evidence files: captures, annotated PNGs, dumps, readbacks, recordings, logs.")
        var evidence: [String] = []
        @Option(help: "Policy file (YAML or JSON) instead of the built-in one.") var policy: String?
        @Option(help: "Screen size in LEDs, WIDTHxHEIGHT, when neither the findings file nor the registry has it.")
        var screen: String?
        @Option(help: "Write evidence bundles here (default: bundles/ beside the store).") var bundleDir: String?
        @Flag(help: "Write no bundles.") var noBundles = false
        @Flag(help: "The run covered part of the product only: do not note missing faults as gone.") var partial = false
        @Option(help: "The date of the run, yyyy-MM-dd (default: now); decides in or out of warranty.") var at: String?

        func validate() throws {
            if let screen, parseScreen(screen) == nil { throw ValidationError("--screen must look like 1920x1080") }
            if let at, parseDay(at) == nil { throw ValidationError("--at must be a date like 2026-11-25") }
        }

        func run() async throws {
            try await runReporting(json: store.json) {
                let warrantyStore = try store.openStore()
                let pol = try policy.map { try WarrantyPolicy.load(from: URL(fileURLWithPath: $0)) } ?? WarrantyPolicy.builtIn()
                let list: FindingList
                do { list = try FindingList.decode(try Data(contentsOf: URL(fileURLWithPath: findings))) } catch {
                    throw IntakeError.badFindings(path: findings, reason: "\(error)")
                }
                let files = evidence.map { arg -> WarrantyIntake.EvidenceFile in
                    if let eq = arg.firstIndex(of: "="), let role = EvidenceReference.Role(rawValue: String(arg[..<eq])) {
                        return .init(url: URL(fileURLWithPath: String(arg[arg.index(after: eq)...])), role: role)
                    }
                    return .init(url: URL(fileURLWithPath: arg))
                }
                if !store.json { FileHandle.standardError.write(Data("ingesting \(list.findings.count) findings, \(files.count) evidence files for \(product)\n".utf8)) }
                let bundles = noBundles ? nil : (bundleDir.map { URL(fileURLWithPath: $0) }
                    ?? warrantyStore.path.deletingLastPathComponent().appendingPathComponent("bundles"))
                let options = WarrantyIntake.Options(
                    actor: actor.name, now: at.flatMap(parseDay) ?? Date(),
                    screen: screen.flatMap(parseScreen).map { FindingList.ScreenSize(width: $0.0, height: $0.1) },
                    bundleDirectory: bundles, coversWholeProduct: !partial,
                    progress: store.json ? nil : printProgress)
                let summary = try await WarrantyIntake(store: warrantyStore, policy: pol)
                    .ingestAndNotify(findings: list, productSerial: product, evidence: files, options: options)
                if store.json { printJSON(summary); return }
                print("Product \(summary.productSerial): \(summary.scope.explanation)")
                for m in summary.missing { print("MISSING: \(m)") }
                print("Standard: \(summary.standard)")
                printTable(["CASE", "ACTION", "FAULT", "WHERE", "CLASS", "SERVICE", "CLAUSE", "STATE", "BUNDLE"],
                           summary.cases.map { [$0.reference, $0.action.rawValue, $0.kind.rawValue, $0.location,
                                                $0.faultClass.rawValue, $0.service.rawValue, $0.clause, $0.state.rawValue,
                                                $0.bundle ?? "-"] })
                if summary.cases.isEmpty { print("No finding breaks the policy: no case opened.") }
                if summary.tolerated > 0 { print("\(summary.tolerated) finding(s) within the performance standard.") }
                for note in summary.notes { print("note: \(note)") }
                for line in summary.cases where !line.annotatedImages.isEmpty {
                    print("\(line.reference) annotated pictures: " + line.annotatedImages.joined(separator: ", "))
                }
                print("Evidence store: \(summary.evidenceDirectory)")
                if let hooks = summary.hooks {
                    print("Hooks: \(hooks.delivered) delivered, \(hooks.pending) pending" + (hooks.pending > 0 ? " (see `ledsentry hooks status`)" : ""))
                }
            }
        }
    }

    struct Transition: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a case to the next state of its service process.",
            discussion: "States: " + CaseState.allCases.map(\.rawValue).joined(separator: ", ")
                + ". Moves the policy does not allow are refused with the reason (exit 1). RMA numbers are issued with `ledsentry rma issue`.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var actor: ActorOption
        @Argument(help: "Case number.") var caseID: String
        @Option(help: "Target state.") var to: String
        @Option(help: "A note for the history.") var note: String = ""

        func run() async throws {
            try await runReporting(json: store.json) {
                guard let target = CaseState(rawValue: to) else {
                    throw ValidationError("unknown state '\(to)'; states: " + CaseState.allCases.map(\.rawValue).joined(separator: ", "))
                }
                let warrantyStore = try store.openStore()
                let c = try warrantyStore.transition(caseID: try parseCaseID(caseID), to: target, actor: actor.name, note: note)
                await deliverHooks(warrantyStore, quiet: store.json)
                if store.json { printJSON(c); return }
                print("\(c.reference) is now \(c.state.rawValue): \(c.stateMeaning)")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a case's evidence bundle (ZIP with a SHA-256 manifest and the policy's forms).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var actor: ActorOption
        @Argument(help: "Case number.") var caseID: String
        @Option(help: "Bundle path (default: bundles/CASE-NNNNNN.zip beside the store).") var out: String?

        func run() async throws {
            try await runReporting(json: store.json) {
                let warrantyStore = try store.openStore()
                let c = try warrantyStore.warrantyCase(id: try parseCaseID(caseID))
                let url = out.map { URL(fileURLWithPath: $0) }
                    ?? warrantyStore.path.deletingLastPathComponent().appendingPathComponent("bundles/\(c.reference).zip")
                let written = try EvidenceBundle.write(case: c, store: warrantyStore, to: url)
                try warrantyStore.noteExport(caseID: c.id, bundle: url.path, manifestSHA256: written.manifestSHA256, actor: actor.name)
                if store.json {
                    printJSON(["bundle": url.path, "manifestSHA256": written.manifestSHA256, "files": "\(written.files)"])
                } else {
                    print("\(c.reference): \(written.files) files in \(url.path) (manifest sha256 \(written.manifestSHA256))")
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an evidence bundle against its manifest: changed, missing or added files.",
            discussion: "Exit 0 when intact, 1 when anything differs, 4 when the file is not a bundle.")
        @Flag(help: "Print JSON.") var json = false
        @Argument(help: "The bundle (.zip).") var bundle: String

        func run() async throws {
            try await runReporting(json: json) {
                let v = try EvidenceBundle.verify(URL(fileURLWithPath: bundle))
                if json { printJSON(v) } else {
                    for p in v.changed { print("CHANGED  \(p)") }
                    for p in v.missing { print("MISSING  \(p)") }
                    for p in v.added { print("ADDED    \(p)") }
                    print(v.intact ? "\(v.caseReference): intact, \(v.checked) files match the manifest"
                                   : "\(v.caseReference): NOT intact (\(v.changed.count) changed, \(v.missing.count) missing, \(v.added.count) added)")
                }
                if !v.intact { throw ExitCode(1) }
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the store: every case whole and every evidence file present with its digest.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReporting(json: store.json) {
                let warrantyStore = try store.openStore()
                let problems = try warrantyStore.checkIntegrity()
                let count = try warrantyStore.cases().count
                struct Report: Encodable { var cases: Int; var problems: [String] }
                if store.json { printJSON(Report(cases: count, problems: problems)) } else {
                    problems.forEach { print("PROBLEM  \($0)") }
                    print(problems.isEmpty ? "\(count) cases, all whole" : "\(problems.count) problem(s)")
                }
                if !problems.isEmpty { throw ExitCode(1) }
            }
        }
    }
}

/// Progress lines go to stderr so stdout stays the result.
@Sendable func printProgress(_ line: String) {
    FileHandle.standardError.write(Data("  \(line)\n".utf8))
}

extension CasesCommand {
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Delete evidence files no case references (left by interrupted runs), older than an hour.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReporting(json: store.json) {
                let result = try store.openStore().collectGarbage()
                struct Report: Encodable { var removed: [String]; var bytes: Int64 }
                if store.json { printJSON(Report(removed: result.removed, bytes: result.bytes)) } else {
                    print("removed \(result.removed.count) unreferenced evidence file(s), \(result.bytes) bytes")
                }
            }
        }
    }
}

func parseScreen(_ text: String) -> (Int, Int)? {
    let parts = text.lowercased().split(separator: "x")
    guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
    return (w, h)
}

func parseDay(_ text: String) -> Date? {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd"
    guard let d = f.date(from: text), f.string(from: d) == text else { return nil }
    return d.addingTimeInterval(12 * 3600)  // midday, so the day is the same in every zone
}
