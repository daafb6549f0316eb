import ArgumentParser
import Foundation
import Warranty

struct HooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks",
        abstract: "The hook outbox: events for case opened / state changed / evidence added.",
        discussion: """
            Hooks are configured in hooks.yaml beside the store (or --hooks FILE). Every event is kept in \
            the store's outbox until its receiver acknowledges it (command exit 0, HTTP 2xx), delivered in \
            order per hook, retried with backoff (5 s doubling to 1 h). HTTP bodies are signed: \
            X-LEDSentry-Signature: sha256=<hex HMAC-SHA256 of the raw body with the hook's secret>.
            """,
        subcommands: [Status.self, Retry.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show pending and failed deliveries.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Show delivered events too.") var all = false

        func run() async throws {
            try await runReporting(json: store.json) {
                let warrantyStore = try store.openStore()
                let entries = try warrantyStore.outbox(pendingOnly: !all)
                let configured = Set(warrantyStore.hookTargets.map(\.name))
                struct Line: Encodable {
                    var seq: Int64, eventId: String, hook: String, event: String, caseReference: String?
                    var attempts: Int, nextAttemptAt: Date, deliveredAt: Date?, lastError: String?
                }
                let lines = entries.map {
                    Line(seq: $0.seq, eventId: $0.eventId, hook: $0.target, event: $0.event.rawValue,
                         caseReference: $0.caseID.map(WarrantyCase.reference(for:)), attempts: $0.attempts,
                         nextAttemptAt: $0.nextAttemptAt, deliveredAt: $0.deliveredAt, lastError: $0.lastError)
                }
                if store.json { printJSON(AnyEncodableArray(lines)); return }
                printTable(["SEQ", "HOOK", "EVENT", "CASE", "TRIES", "STATUS"], lines.map { l in
                    [String(l.seq), l.hook, l.event, l.caseReference ?? "-", String(l.attempts),
                     l.deliveredAt.map { "delivered \($0)" }
                        ?? (configured.contains(l.hook) ? "pending, next try \(l.nextAttemptAt)" : "pending, hook no longer configured")
                        + (l.lastError.map { ": \($0)" } ?? "")]
                })
                let pending = lines.filter { $0.deliveredAt == nil }.count
                print("\(pending) pending")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver every pending event now, ignoring the backoff.",
            discussion: "Exit 0 when nothing is left pending, 1 when some receiver still fails.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReporting(json: store.json) {
                let report = await HookDispatcher(store: try store.openStore()).deliverDue(force: true)
                if store.json { printJSON(report) } else {
                    report.errors.forEach { print("failed: \($0)") }
                    print("\(report.delivered) delivered, \(report.pending) pending")
                }
                if report.pending > 0 { throw ExitCode(1) }
            }
        }
    }
}
