import Foundation
import GRDB

/// The durable hook outbox: one row per (event, delivery target), written in the transaction
/// that made the change, delivered in order per target, marked delivered once acknowledged.
extension WarrantyStore {
    /// The JSON every hook receives (command stdin and HTTP body are the same bytes).
    public struct HookPayload: Codable, Sendable {
        public var eventId: String
        public var event: HookEvent
        public var at: Date
        public var `case`: WarrantyCase
    }

    public struct OutboxEntry: Sendable {
        public var seq: Int64
        public var eventId: String
        public var target: String
        public var event: HookEvent
        public var caseID: Int64?
        public var payload: Data
        public var attempts: Int
        public var nextAttemptAt: Date
        public var deliveredAt: Date?
        public var lastError: String?
    }

    /// A delivery target: a hook's command or its URL (a hook with both has two targets, so a
    /// failing URL never makes the command run twice).
    public struct HookTarget: Sendable, Hashable {
        public enum Channel: String, Sendable { case command, http }
        public var hook: Hook
        public var channel: Channel
        public var name: String { hook.name + "/" + channel.rawValue }
    }

    public var hookTargets: [HookTarget] {
        hooks.flatMap { hook in
            (hook.command != nil ? [HookTarget(hook: hook, channel: .command)] : [])
                + (hook.url != nil ? [HookTarget(hook: hook, channel: .http)] : [])
        }
    }

    func enqueue(_ db: Database, event: HookEvent, caseID: Int64, at now: Date) throws {
        let targets = hookTargets.filter { $0.hook.wants(event) }
        guard !targets.isEmpty else { return }
        let eventID = UUID().uuidString.lowercased()
        let payload = HookPayload(eventId: eventID, event: event, at: now, case: try Self.loadCase(id: caseID, db))
        let body = try storeEncoder.encode(payload)
        for target in targets {
            try db.execute(sql: """
                INSERT INTO hookOutbox (eventId, hook, event, caseId, payload, createdAt, nextAttemptAt)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [eventID, target.name, event.rawValue, caseID, body, now, now])
        }
    }

    public func outbox(pendingOnly: Bool = false) throws -> [OutboxEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM hookOutbox \(pendingOnly ? "WHERE deliveredAt IS NULL" : "") ORDER BY seq")
                .map(Self.entry)
        }
    }

    static func entry(_ row: Row) -> OutboxEntry {
        OutboxEntry(seq: row["seq"], eventId: row["eventId"], target: row["hook"],
                    event: HookEvent(rawValue: row["event"]) ?? .stateChanged, caseID: row["caseId"],
                    payload: row["payload"], attempts: row["attempts"], nextAttemptAt: row["nextAttemptAt"],
                    deliveredAt: row["deliveredAt"], lastError: row["lastError"])
    }

    /// Claims the oldest undelivered entry of a target when it is due and nobody else holds it.
    /// Order is kept: a later entry is never claimed while an earlier one is pending.
    func claimNext(target: String, now: Date, force: Bool, lease: TimeInterval) throws -> OutboxEntry? {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT * FROM hookOutbox WHERE hook = ? AND deliveredAt IS NULL ORDER BY seq LIMIT 1
                """, arguments: [target]) else { return nil }
            let entry = Self.entry(row)
            if let claimed = row["claimedUntil"] as Date?, claimed > now { return nil }
            if !force && entry.nextAttemptAt > now { return nil }
            try db.execute(sql: "UPDATE hookOutbox SET claimedUntil = ? WHERE seq = ?",
                           arguments: [now.addingTimeInterval(lease), entry.seq])
            return entry
        }
    }

    func markDelivered(seq: Int64, at now: Date) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE hookOutbox SET deliveredAt = ?, attempts = attempts + 1, claimedUntil = NULL, lastError = NULL
                WHERE seq = ?
                """, arguments: [now, seq])
        }
    }

    /// Exponential backoff: 5 s, 10 s, 20 s ... at most one hour.
    static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(3600, 5 * pow(2, Double(max(0, attempts - 1))))
    }

    func markFailed(seq: Int64, attempts: Int, error: String, at now: Date) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE hookOutbox SET attempts = ?, lastError = ?, nextAttemptAt = ?, claimedUntil = NULL WHERE seq = ?
                """, arguments: [attempts, error, now.addingTimeInterval(Self.backoff(afterAttempts: attempts)), seq])
        }
    }
}
