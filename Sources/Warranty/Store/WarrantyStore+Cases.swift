import Diagnostics
import Foundation
import GRDB

/// Reading cases back.
extension WarrantyStore {
    public struct CaseFilter: Sendable {
        public var productSerial: String?
        public var state: CaseState?
        public var openOnly: Bool
        public init(productSerial: String? = nil, state: CaseState? = nil, openOnly: Bool = false) {
            self.productSerial = productSerial
            self.state = state
            self.openOnly = openOnly
        }
    }

    public func warrantyCase(id: Int64) throws -> WarrantyCase {
        try read { db in try Self.loadCase(id: id, db) }
    }

    public func cases(_ filter: CaseFilter = CaseFilter()) throws -> [WarrantyCase] {
        try read { db in
            var sql = "SELECT id FROM warrantyCase WHERE 1"
            var args: [any DatabaseValueConvertible] = []
            if let serial = filter.productSerial { sql += " AND productSerial = ?"; args.append(serial) }
            if let state = filter.state { sql += " AND state = ?"; args.append(state.rawValue) }
            if filter.openOnly {
                let terminal = CaseState.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ",")
                sql += " AND state NOT IN (\(terminal))"
            }
            let ids = try Int64.fetchAll(db, sql: sql + " ORDER BY id", arguments: StatementArguments(args))
            return try ids.map { try Self.loadCase(id: $0, db) }
        }
    }

    public func caseID(fingerprint: String) throws -> Int64? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM warrantyCase WHERE fingerprint = ?", arguments: [fingerprint])
        }
    }

    static func loadCase(id: Int64, _ db: Database) throws -> WarrantyCase {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM warrantyCase WHERE id = ?", arguments: [id]) else {
            throw StoreError.caseNotFound(id)
        }
        let serial: String = row["productSerial"]
        guard let product = try product(serial: serial, db) else { throw StoreError.caseNotFound(id) }
        let findings = try Row.fetchAll(db, sql: "SELECT * FROM caseFinding WHERE caseId = ? ORDER BY id", arguments: [id]).map {
            RecordedFinding(runID: $0["runId"], recordedAt: $0["recordedAt"], finding: try fromJSON(Finding.self, $0["json"]))
        }
        let evidence = try Row.fetchAll(db, sql: """
            SELECT e.*, b.size FROM caseEvidence e JOIN evidenceBlob b ON b.sha256 = e.sha256
            WHERE e.caseId = ? ORDER BY e.id
            """, arguments: [id]).map {
            CaseEvidence(name: $0["name"], role: EvidenceReference.Role(rawValue: $0["role"]) ?? .other,
                         sha256: $0["sha256"], size: $0["size"], runID: $0["runId"], addedAt: $0["addedAt"])
        }
        let history = try Row.fetchAll(db, sql: "SELECT * FROM caseHistory WHERE caseId = ? ORDER BY id", arguments: [id]).map {
            HistoryEntry(at: $0["at"], actor: $0["actor"],
                         event: HistoryEntry.Event(rawValue: $0["event"]) ?? .stateChanged,
                         fromState: ($0["fromState"] as String?).flatMap(CaseState.init(rawValue:)),
                         toState: ($0["toState"] as String?).flatMap(CaseState.init(rawValue:)),
                         note: $0["note"])
        }
        let state = CaseState(rawValue: row["state"]) ?? .guidancePending
        return WarrantyCase(
            id: id, reference: WarrantyCase.reference(for: id), fingerprint: row["fingerprint"], product: product,
            kind: FaultKind(rawValue: row["kind"]), location: try fromJSON(FaultLocation.self, row["locationJSON"]),
            summary: row["summary"], scope: try fromJSON(ScopeDecision.self, row["scopeJSON"]),
            // Asked for at the run; dropped here once the registry has it.
            missing: try fromJSON([MissingItem].self, row["missingJSON"]).filter { $0.stillMissing(for: product) }.map(\.text),
            faultClass: try fromJSON(WarrantyPolicy.ClassDecision.self, row["faultClassJSON"]),
            service: try fromJSON(ServiceDecision.self, row["serviceJSON"]), state: state, stateMeaning: state.meaning,
            rmaNumber: row["rmaNumber"], deliveryAddress: row["deliveryAddress"],
            measurements: try fromJSON([MeasuredValue].self, row["measurementsJSON"]),
            openedAt: row["openedAt"], updatedAt: row["updatedAt"], lastSeenAt: row["lastSeenAt"],
            absentSince: row["absentSince"], occurrences: row["occurrences"],
            findings: findings, evidence: evidence, history: history)
    }

    /// Deletes evidence files no case references (left by runs killed before their commit),
    /// sparing files touched within `graceSeconds`: a run in another process may be about to
    /// reference them. Returns the digests removed and the bytes freed.
    public func collectGarbage(graceSeconds: TimeInterval = 3600, now: Date = Date()) throws -> (removed: [String], bytes: Int64) {
        let referenced = Set(try read { db in try String.fetchAll(db, sql: "SELECT sha256 FROM evidenceBlob") })
        var removed: [String] = []
        var bytes: Int64 = 0
        for file in evidence.storedFiles() where !referenced.contains(file.sha256) && now.timeIntervalSince(file.modified) > graceSeconds {
            let url = evidence.url(for: file.sha256)
            let size = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0
            if (try? FileManager.default.removeItem(at: url)) != nil {
                removed.append(file.sha256)
                bytes += size
            }
        }
        evidence.removeLeftovers(olderThan: graceSeconds, now: now)
        return (removed, bytes)
    }

    /// Checks every case is whole: its product exists, it has findings and history, and every
    /// evidence file it names is in the evidence store with the right digest. Returns problems.
    public func checkIntegrity(rehash: Bool = true) throws -> [String] {
        try read { db in
            var problems: [String] = []
            let quick = try String.fetchAll(db, sql: "PRAGMA quick_check")
            if quick != ["ok"] { problems.append("sqlite quick_check: " + quick.joined(separator: "; ")) }
            for row in try Row.fetchAll(db, sql: """
                SELECT c.id,
                  (SELECT count(*) FROM caseFinding f WHERE f.caseId = c.id) AS findings,
                  (SELECT count(*) FROM caseHistory h WHERE h.caseId = c.id) AS history,
                  (SELECT count(*) FROM product p WHERE p.serial = c.productSerial) AS products
                FROM warrantyCase c
                """) {
                let id: Int64 = row["id"]
                if (row["findings"] as Int) == 0 { problems.append("\(WarrantyCase.reference(for: id)) has no findings") }
                if (row["history"] as Int) == 0 { problems.append("\(WarrantyCase.reference(for: id)) has no history") }
                if (row["products"] as Int) == 0 { problems.append("\(WarrantyCase.reference(for: id)) names an unknown product") }
            }
            for row in try Row.fetchAll(db, sql: "SELECT DISTINCT caseId, sha256, name FROM caseEvidence") {
                let sha: String = row["sha256"]
                let ok = rehash ? evidence.verify(sha) : evidence.contains(sha)
                if !ok {
                    problems.append("\(WarrantyCase.reference(for: row["caseId"])): evidence \(row["name"] as String) (\(sha.prefix(12))) missing or changed")
                }
            }
            return problems
        }
    }
}
