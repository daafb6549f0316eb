import ArgumentParser
import Foundation
import Warranty

/// Subcommands of this room, listed by LEDSentry.swift.
let warrantyCommands: [any ParsableCommand.Type] = [CasesCommand.self, RMACommand.self, ProductsCommand.self, HooksCommand.self]

/// Where the warranty store lives and how to print: shared by every warranty subcommand.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The warranty store (SQLite).",
        discussion: "Default: $LEDSENTRY_HOME/warranty.sqlite, else ~/.local/share/ledsentry/warranty.sqlite. Evidence files live beside it in warranty-evidence/."))
    var db: String?

    @Option(name: .long, help: "Hooks file (YAML or JSON with `hooks:`); default: hooks.yaml beside the store, if present.")
    var hooks: String?

    @Flag(name: .long, help: "Print JSON instead of tables.")
    var json = false

    var home: URL {
        if let home = ProcessInfo.processInfo.environment["LEDSENTRY_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/ledsentry")
    }

    var dbURL: URL { db.map { URL(fileURLWithPath: $0) } ?? home.appendingPathComponent("warranty.sqlite") }

    func openStore() throws -> WarrantyStore {
        var hookList: [Hook] = []
        let hooksURL = hooks.map { URL(fileURLWithPath: $0) } ?? dbURL.deletingLastPathComponent().appendingPathComponent("hooks.yaml")
        if hooks != nil || FileManager.default.fileExists(atPath: hooksURL.path) {
            hookList = try Hook.load(from: hooksURL)
        }
        return try WarrantyStore(path: dbURL, hooks: hookList)
    }
}

/// Who is recorded in the case history.
struct ActorOption: ParsableArguments {
    @Option(name: .long, help: "Who made the change, for the case history (default: $USER).")
    var actor: String?

    var name: String { actor ?? ProcessInfo.processInfo.environment["USER"] ?? "ledsentry" }
}

/// Runs a command body, printing errors clearly and choosing the documented exit code:
/// 1 command failed, 2 usage, 4 bad input file, 5 store error.
func runReporting(json: Bool, _ body: () async throws -> Void) async throws {
    do { try await body() } catch let error as ExitCode {
        throw error
    } catch {
        let code = warrantyExitCode(for: error)
        let message = String(describing: error)
        if json {
            printJSON(["error": message, "exitCode": "\(code)"])
        }
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        throw ExitCode(code)
    }
}

func warrantyExitCode(for error: any Error) -> Int32 {
    switch error {
    case let e as StoreError:
        switch e {
        case .illegalTransition, .caseNotFound: return 1
        default: return 5
        }
    case let e as RegistryError:
        if case .invalid = e { return 2 }
        return 1
    case let e as EvidenceError:
        if case .missing = e { return 5 }
        return 4
    case is ValidationError: return 2
    case is PolicyError, is IntakeError, is BundleError, is HookError: return 4
    case is DecodingError: return 4
    default: return 1
    }
}

let cliEncoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    e.dateEncodingStrategy = .iso8601
    return e
}()

func printJSON<T: Encodable>(_ value: T) {
    if let data = try? cliEncoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
}

/// A plain text table: header, then rows, columns padded to the widest cell.
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// Accepts `12`, `CASE-000012` or `case-12`.
func parseCaseID(_ text: String) throws -> Int64 {
    let digits = text.uppercased().hasPrefix("CASE-") ? String(text.dropFirst(5)) : text
    guard let id = Int64(digits), id > 0 else {
        throw ValidationError("'\(text)' is not a case number (use 12 or CASE-000012)")
    }
    return id
}

/// Delivers due hook events after a change; failures stay in the outbox for later.
func deliverHooks(_ store: WarrantyStore, quiet: Bool) async {
    guard !store.hooks.isEmpty else { return }
    let report = await HookDispatcher(store: store).deliverDue()
    if !quiet && (report.failed > 0 || report.pending > 0) {
        FileHandle.standardError.write(Data(
            "hooks: \(report.delivered) delivered, \(report.pending) pending (see `ledsentry hooks status`)\n".utf8))
    }
}
