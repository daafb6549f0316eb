import Diagnostics
import Foundation

/// A warranty case as people and hooks see it: product identity, the policy's decisions,
/// the findings and evidence from every run, and the full history.
public struct WarrantyCase: Codable, Sendable {
    public var id: Int64
    /// `CASE-000042`: what people quote on the phone.
    public var reference: String
    public var fingerprint: String
    public var product: Product
    public var kind: FaultKind
    public var location: FaultLocation
    public var summary: String
    public var scope: ScopeDecision
    /// What the customer must still supply (card/order number, contact), in words.
    public var missing: [String]
    public var faultClass: WarrantyPolicy.ClassDecision
    public var service: ServiceDecision
    public var state: CaseState
    public var stateMeaning: String
    public var rmaNumber: String?
    public var deliveryAddress: String?
    public var measurements: [MeasuredValue]
    public var openedAt: Date
    public var updatedAt: Date
    public var lastSeenAt: Date
    /// Set when a later run no longer saw the fault; cleared when it is seen again.
    public var absentSince: Date?
    /// How many runs saw the fault.
    public var occurrences: Int
    public var findings: [RecordedFinding]
    public var evidence: [CaseEvidence]
    public var history: [HistoryEntry]

    public static func reference(for id: Int64) -> String {
        "CASE-" + String(format: "%06lld", id)
    }
}

public struct RecordedFinding: Codable, Sendable {
    public var runID: String
    public var recordedAt: Date
    public var finding: Finding
}

public struct CaseEvidence: Codable, Sendable, Hashable {
    public var name: String
    public var role: EvidenceReference.Role
    public var sha256: String
    public var size: Int64
    public var runID: String
    public var addedAt: Date
}

public struct HistoryEntry: Codable, Sendable {
    public enum Event: String, Codable, Sendable {
        case opened
        case seenAgain = "seen-again"
        case evidenceAdded = "evidence-added"
        case faultAbsent = "fault-absent"
        case stateChanged = "state-changed"
        case rmaIssued = "rma-issued"
        case exported
    }
    public var at: Date
    public var actor: String
    public var event: Event
    public var fromState: CaseState?
    public var toState: CaseState?
    public var note: String
}
