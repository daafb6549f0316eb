import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Delivers the outbox: per target, oldest first, stopping at the first failure so events
/// stay in order. A delivery counts once the receiver acknowledges it (exit 0 / HTTP 2xx);
/// the event id travels with it so a receiver can drop a repeat after a crash between its
/// acknowledgement and our bookkeeping.
public struct HookDispatcher: Sendable {
    public let store: WarrantyStore

    /// Header carrying `sha256=<hex HMAC-SHA256 of the raw request body, keyed by the hook secret>`.
    public static let signatureHeader = "X-LEDSentry-Signature"
    public static let eventHeader = "X-LEDSentry-Event"
    public static let eventIDHeader = "X-LEDSentry-Event-Id"

    public init(store: WarrantyStore) { self.store = store }

    public struct Report: Codable, Sendable {
        public var delivered = 0
        public var failed = 0
        public var pending = 0
        public var errors: [String] = []
    }

    /// Delivers what is due; `force` ignores the backoff (for `hooks retry`).
    public func deliverDue(force: Bool = false, now: @Sendable () -> Date = Date.init) async -> Report {
        var report = Report()
        for target in store.hookTargets {
            let timeout = target.hook.timeout ?? 10
            while true {
                let entry: WarrantyStore.OutboxEntry?
                do { entry = try store.claimNext(target: target.name, now: now(), force: force, lease: timeout + 5) } catch {
                    report.errors.append("\(target.name): \(error)")
                    break
                }
                guard let entry else { break }
                do {
                    try await deliver(entry, to: target, timeout: timeout)
                    try store.markDelivered(seq: entry.seq, at: now())
                    report.delivered += 1
                } catch {
                    report.failed += 1
                    report.errors.append("\(target.name) event \(entry.eventId): \(error)")
                    try? store.markFailed(seq: entry.seq, attempts: entry.attempts + 1, error: "\(error)", at: now())
                    break  // keep order: later events wait for this one
                }
            }
        }
        let pending = (try? store.outbox(pendingOnly: true)) ?? []
        report.pending = pending.count
        let configured = Set(store.hookTargets.map(\.name))
        for (target, count) in Dictionary(grouping: pending.filter { !configured.contains($0.target) }, by: \.target)
            .mapValues(\.count).sorted(by: { $0.key < $1.key }) {
            report.errors.append("\(target): \(count) event(s) wait for a hook that is no longer configured (add it back to hooks.yaml)")
        }
        return report
    }

    func deliver(_ entry: WarrantyStore.OutboxEntry, to target: WarrantyStore.HookTarget, timeout: Double) async throws {
        switch target.channel {
        case .http: try await post(entry, hook: target.hook, timeout: timeout)
        case .command: try run(entry, hook: target.hook, timeout: timeout)
        }
    }

    public static func signature(body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    func post(_ entry: WarrantyStore.OutboxEntry, hook: Hook, timeout: Double) async throws {
        guard let urlText = hook.url, let url = URL(string: urlText) else {
            throw HookError.deliveryFailed("no URL")
        }
        guard let secret = hook.resolvedSecret else {
            throw HookError.deliveryFailed("no secret for \(hook.name) (set \(hook.secretEnv ?? "secret"))")
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = entry.payload
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(entry.event.rawValue, forHTTPHeaderField: Self.eventHeader)
        request.setValue(entry.eventId, forHTTPHeaderField: Self.eventIDHeader)
        request.setValue(Self.signature(body: entry.payload, secret: secret), forHTTPHeaderField: Self.signatureHeader)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: config)
        defer { session.finishTasksAndInvalidate() }
        let response: URLResponse
        do { (_, response) = try await session.data(for: request) } catch {
            throw HookError.deliveryFailed("POST \(urlText): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw HookError.deliveryFailed("POST \(urlText): HTTP \(status)")
        }
    }

    func run(_ entry: WarrantyStore.OutboxEntry, hook: Hook, timeout: Double) throws {
        guard let argv = hook.command, let first = argv.first else { throw HookError.deliveryFailed("empty command") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: first.contains("/") ? first : "/usr/bin/env")
        process.arguments = first.contains("/") ? Array(argv.dropFirst()) : argv
        var env = ProcessInfo.processInfo.environment
        env["LEDSENTRY_EVENT"] = entry.event.rawValue
        env["LEDSENTRY_EVENT_ID"] = entry.eventId
        if let id = entry.caseID { env["LEDSENTRY_CASE"] = WarrantyCase.reference(for: id) }
        process.environment = env
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw HookError.deliveryFailed("cannot start \(argv.joined(separator: " ")): \(error.localizedDescription)")
        }
        // A command that does not read stdin must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        try? stdin.fileHandleForWriting.write(contentsOf: entry.payload)
        try? stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            let grace = Date().addingTimeInterval(1)
            while process.isRunning && Date() < grace { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }  // SIGTERM may be blocked
            process.waitUntilExit()
            throw HookError.deliveryFailed("\(argv.joined(separator: " ")) took longer than \(Int(timeout)) s")
        }
        guard process.terminationStatus == 0 else {
            throw HookError.deliveryFailed("\(argv.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
    }
}
