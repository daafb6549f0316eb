import Diagnostics
import Foundation
import GRDB

/// Writing: one inspection run, state transitions, RMA numbers. Each is one transaction,
/// and the hook outbox rows for what changed are written inside it.
extension WarrantyStore {
    /// An evidence file already in the evidence store, ready to be referenced.
    public struct StoredEvidence: Sendable, Hashable {
        public var name: String
        public var role: EvidenceReference.Role
        public var sha256: String
        public var size: Int64
        public init(name: String, role: EvidenceReference.Role, sha256: String, size: Int64) {
            self.name = name
            self.role = role
            self.sha256 = sha256
            self.size = size
        }
    }

    /// Everything one run adds to the store.
    public struct RunRecord: Sendable {
        public var runID: String
        public var product: Product
        public var assessment: Assessment
        public var actor: String
        public var at: Date
        /// Evidence per fault fingerprint (already stored, fsynced).
        public var evidence: [String: [StoredEvidence]]
        /// When true, open cases of this product whose fault was not seen are noted as absent.
        public var coversWholeProduct: Bool
    }

    public struct RunOutcome: Codable, Sendable {
        public var opened: [Int64] = []
        public var updated: [Int64] = []
        public var absent: [Int64] = []
    }

    public func record(_ run: RunRecord) throws -> RunOutcome {
        try write { db in
            // The product must still be registered, in this very transaction.
            guard try Self.product(serial: run.product.serial, db) != nil else {
                throw RegistryError.unknownProduct(serial: run.product.serial)
            }
            var outcome = RunOutcome()
            var events: [(Int64, HookEvent)] = []
            let a = run.assessment
            for fault in a.faults {
                let caseID: Int64
                let existing = try Row.fetchOne(db, sql: "SELECT id, absentSince, state FROM warrantyCase WHERE fingerprint = ?",
                                                arguments: [fault.fingerprint])
                if let existing {
                    caseID = existing["id"]
                    try db.execute(sql: """
                        UPDATE warrantyCase SET measurementsJSON = ?, summary = ?, scopeJSON = ?, missingJSON = ?,
                          updatedAt = ?, lastSeenAt = ?, absentSince = NULL, occurrences = occurrences + 1
                        WHERE id = ?
                        """, arguments: [try jsonText(fault.measurements), fault.summary, try jsonText(a.scope),
                                         try jsonText(a.missing), run.at, run.at, caseID])
                    let wasAbsent = (existing["absentSince"] as Date?) != nil
                    let state = CaseState(rawValue: existing["state"]) ?? .guidancePending
                    var note = "seen again in run \(run.runID): \(fault.summary)"
                    if wasAbsent { note = "fault is back after being absent; " + note }
                    if state.isTerminal { note += " (the case is already \(state.rawValue); reopen it by hand if needed)" }
                    try Self.addHistory(db, caseID, run.at, run.actor, .seenAgain, nil, nil, note)
                    outcome.updated.append(caseID)
                } else {
                    let state = CaseState.initial(for: fault.service.type)
                    try db.execute(sql: """
                        INSERT INTO warrantyCase (fingerprint, productSerial, kind, location, locationJSON, summary,
                          scopeJSON, missingJSON, faultClass, faultClassJSON, serviceType, serviceJSON, measurementsJSON,
                          state, openedAt, updatedAt, lastSeenAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [
                            fault.fingerprint, run.product.serial, fault.kind.rawValue, fault.location.canonical,
                            try jsonText(fault.location), fault.summary, try jsonText(a.scope), try jsonText(a.missing),
                            fault.faultClass.class.rawValue, try jsonText(fault.faultClass), fault.service.type.rawValue,
                            try jsonText(fault.service), try jsonText(fault.measurements), state.rawValue,
                            run.at, run.at, run.at,
                        ])
                    caseID = db.lastInsertedRowID
                    var note = "opened: \(fault.faultClass.class.rawValue) problem (\(fault.faultClass.clause)), "
                        + "\(fault.service.type.rawValue) (\(fault.service.clause)); \(a.scope.explanation)"
                    if !a.missing.isEmpty { note += " Missing: " + a.missing.map(\.text).joined(separator: " ") }
                    try Self.addHistory(db, caseID, run.at, run.actor, .opened, nil, state, note)
                    outcome.opened.append(caseID)
                    events.append((caseID, .caseOpened))
                }
                for finding in fault.findings {
                    try db.execute(sql: "INSERT INTO caseFinding (caseId, runId, recordedAt, json) VALUES (?, ?, ?, ?)",
                                   arguments: [caseID, run.runID, run.at, try jsonText(finding)])
                }
                var added: [String] = []
                for file in run.evidence[fault.fingerprint] ?? [] {
                    try db.execute(sql: "INSERT OR IGNORE INTO evidenceBlob (sha256, size, storedAt) VALUES (?, ?, ?)",
                                   arguments: [file.sha256, file.size, run.at])
                    try db.execute(sql: """
                        INSERT OR IGNORE INTO caseEvidence (caseId, sha256, name, role, runId, addedAt)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """, arguments: [caseID, file.sha256, file.name, file.role.rawValue, run.runID, run.at])
                    if db.changesCount > 0 { added.append(file.name) }
                }
                if !added.isEmpty {
                    try Self.addHistory(db, caseID, run.at, run.actor, .evidenceAdded, nil, nil,
                                        "evidence added: " + added.joined(separator: ", "))
                    if existing != nil { events.append((caseID, .evidenceAdded)) }
                }
            }

            // A fault that is gone is noted on its case, never dropped silently.
            if run.coversWholeProduct {
                let seen = Set(a.faults.map(\.fingerprint))
                let rows = try Row.fetchAll(db, sql: """
                    SELECT id, fingerprint, state FROM warrantyCase WHERE productSerial = ? AND absentSince IS NULL
                    """, arguments: [run.product.serial])
                for row in rows where !seen.contains(row["fingerprint"] as String) {
                    let state = CaseState(rawValue: row["state"]) ?? .guidancePending
                    if state.isTerminal { continue }
                    let id: Int64 = row["id"]
                    try db.execute(sql: "UPDATE warrantyCase SET absentSince = ?, updatedAt = ? WHERE id = ?",
                                   arguments: [run.at, run.at, id])
                    try Self.addHistory(db, id, run.at, run.actor, .faultAbsent, nil, nil,
                                        "fault not observed in run \(run.runID); the case stays \(state.rawValue) until an engineer closes it")
                    outcome.absent.append(id)
                    events.append((id, .faultAbsent))
                }
            }

            try db.execute(sql: "INSERT INTO inspectionRun (id, productSerial, recordedAt, actor, summaryJSON) VALUES (?, ?, ?, ?, ?)",
                           arguments: [run.runID, run.product.serial, run.at, run.actor, try jsonText(outcome)])
            for (id, event) in events { try enqueue(db, event: event, caseID: id, at: run.at) }
            return outcome
        }
    }

    /// Moves a case along its service process, refusing moves the policy does not allow.
    @discardableResult
    public func transition(caseID: Int64, to target: CaseState, actor: String, note: String = "",
                           at now: Date = Date()) throws -> WarrantyCase {
        if target == .rmaIssued {
            let state = try warrantyCase(id: caseID).state
            throw StoreError.illegalTransition(case: caseID, from: state, to: target,
                                               reason: "an RMA number is issued with `ledsentry rma issue \(caseID) --address ...`, which records the delivery address (3.3.2 a)")
        }
        return try write { db in
            let current = try Self.loadCase(id: caseID, db)
            try Self.checkTransition(current, to: target)
            try db.execute(sql: "UPDATE warrantyCase SET state = ?, serviceType = ?, updatedAt = ? WHERE id = ?",
                           arguments: [target.rawValue, target.process.rawValue, now, caseID])
            if target.process != current.state.process {
                // Escalation changes the service type: record the clause that now applies.
                var service = current.service
                service.type = target.process
                service.clause = target.process == .returnRepair ? "3.2.2 a" : "3.2.3 a"
                service.explanation = "Escalated from remote guidance: " + (CaseState.moves[current.state]?[target] ?? "")
                service.steps = []
                try db.execute(sql: "UPDATE warrantyCase SET serviceJSON = ? WHERE id = ?", arguments: [try jsonText(service), caseID])
            }
            let meaning = CaseState.moves[current.state]?[target] ?? target.meaning
            try Self.addHistory(db, caseID, now, actor, .stateChanged, current.state, target,
                                note.isEmpty ? meaning : meaning + ": " + note)
            try enqueue(db, event: .stateChanged, caseID: caseID, at: now)
            return try Self.loadCase(id: caseID, db)
        }
    }

    /// Why a move is refused, or nothing when it is allowed.
    static func checkTransition(_ c: WarrantyCase, to target: CaseState) throws {
        func refuse(_ reason: String) -> StoreError {
            .illegalTransition(case: c.id, from: c.state, to: target, reason: reason)
        }
        guard let allowed = CaseState.moves[c.state], !allowed.isEmpty else {
            throw refuse("the case is closed (\(c.state.meaning))")
        }
        guard allowed[target] != nil else {
            let options = allowed.keys.map(\.rawValue).sorted().joined(separator: ", ")
            throw refuse("the \(c.state.process.rawValue) process allows only: \(options)")
        }
        switch target {
        case .formFilled where !c.missing.isEmpty:
            throw refuse("the Return Repair Request Form must be filled in accurately and fully (3.3.2 a): " + c.missing.joined(separator: " "))
        case .descriptionComplete:
            var lacking: [String] = []
            if !c.evidence.contains(where: { $0.role == .annotatedImage || $0.role == .capture || $0.role == .video }) {
                lacking.append("photos or videos of the fault")
            }
            if !c.product.hasContact { lacking.append("the on-site contact person and their phone or e-mail") }
            if !lacking.isEmpty {
                throw refuse("the fault description document (3.2.3 b, 3.3.3) still needs " + lacking.joined(separator: " and "))
            }
        case .repairedAndReturned, .fixedOnSite:
            if c.scope.status != .inWarranty {
                throw refuse("the product is not covered (\(c.scope.explanation)); record the quote instead")
            }
        default: break
        }
    }

    /// Issues the next RMA number (never reused, `RMA-2026-000123`) with the delivery address.
    @discardableResult
    public func issueRMA(caseID: Int64, deliveryAddress: String, actor: String, at now: Date = Date()) throws -> WarrantyCase {
        let address = deliveryAddress.trimmingCharacters(in: .whitespacesAndNewlines)
        return try write { db in
            let current = try Self.loadCase(id: caseID, db)
            if let rma = current.rmaNumber {
                throw StoreError.illegalTransition(case: caseID, from: current.state, to: .rmaIssued,
                                                   reason: "\(rma) was already issued for this case")
            }
            if address.isEmpty {
                throw StoreError.illegalTransition(case: caseID, from: current.state, to: .rmaIssued,
                                                   reason: "the delivery address for the returned parts is required (3.3.2 a)")
            }
            try Self.checkTransition(current, to: .rmaIssued)
            let year = Product.calendar.component(.year, from: now)
            try db.execute(sql: """
                INSERT INTO rmaSequence (year, last) VALUES (?, 1)
                ON CONFLICT(year) DO UPDATE SET last = last + 1
                """, arguments: [year])
            let next = try Int.fetchOne(db, sql: "SELECT last FROM rmaSequence WHERE year = ?", arguments: [year]) ?? 1
            let number = "RMA-\(year)-" + String(format: "%06d", next)
            try db.execute(sql: "INSERT INTO rmaNumber (number, caseId, issuedAt) VALUES (?, ?, ?)",
                           arguments: [number, caseID, now])
            try db.execute(sql: """
                UPDATE warrantyCase SET state = ?, rmaNumber = ?, deliveryAddress = ?, updatedAt = ? WHERE id = ?
                """, arguments: [CaseState.rmaIssued.rawValue, number, address, now, caseID])
            try Self.addHistory(db, caseID, now, actor, .rmaIssued, current.state, .rmaIssued,
                                "\(number) issued; deliver to: \(address). Mark \(number) clearly on the parcel (3.3.2 b).")
            try enqueue(db, event: .stateChanged, caseID: caseID, at: now)
            return try Self.loadCase(id: caseID, db)
        }
    }

    /// Records that a bundle was exported (so the history shows what was sent where).
    public func noteExport(caseID: Int64, bundle: String, manifestSHA256: String, actor: String, at now: Date = Date()) throws {
        try write { db in
            try Self.addHistory(db, caseID, now, actor, .exported, nil, nil,
                                "evidence bundle written to \(bundle); manifest sha256 \(manifestSHA256)")
        }
    }

    static func addHistory(_ db: Database, _ caseID: Int64, _ at: Date, _ actor: String, _ event: HistoryEntry.Event,
                           _ from: CaseState?, _ to: CaseState?, _ note: String) throws {
        try db.execute(sql: """
            INSERT INTO caseHistory (caseId, at, actor, event, fromState, toState, note) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [caseID, at, actor, event.rawValue, from?.rawValue, to?.rawValue, note])
    }
}
