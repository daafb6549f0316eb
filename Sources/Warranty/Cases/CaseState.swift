/// The states of the policy's three service processes (3.3.1-3.3.3) and the moves between them.
/// The table is the whole state machine: a move not listed here is refused.
public enum CaseState: String, Codable, Sendable, CaseIterable {
    // Remote guidance (3.2.1, 3.3.1).
    case guidancePending = "guidance-pending"
    case guidanceGiven = "guidance-given"
    case resolved
    // Return repair (3.2.2, 3.3.2).
    case formPending = "form-pending"
    case formFilled = "form-filled"
    case rmaIssued = "rma-issued"
    case shipped
    case received
    case inspected
    case repairedAndReturned = "repaired-returned"
    case quoted
    // On-site maintenance (3.2.3, 3.3.3).
    case descriptionPending = "description-pending"
    case descriptionComplete = "description-complete"
    case engineerScheduled = "engineer-scheduled"
    case visited
    case fixedOnSite = "fixed-on-site"
    case quotedWithTravel = "quoted-with-travel"

    /// The state a new case starts in for each service type.
    public static func initial(for service: ServiceType) -> CaseState {
        switch service {
        case .remoteGuidance: .guidancePending
        case .returnRepair: .formPending
        case .onSite: .descriptionPending
        }
    }

    /// Which service process the state belongs to.
    public var process: ServiceType {
        switch self {
        case .guidancePending, .guidanceGiven, .resolved: .remoteGuidance
        case .formPending, .formFilled, .rmaIssued, .shipped, .received, .inspected, .repairedAndReturned, .quoted: .returnRepair
        case .descriptionPending, .descriptionComplete, .engineerScheduled, .visited, .fixedOnSite, .quotedWithTravel: .onSite
        }
    }

    public var isTerminal: Bool { Self.moves[self, default: [:]].isEmpty }

    /// Allowed moves, each with what it means in the policy's words.
    public static let moves: [CaseState: [CaseState: String]] = [
        .guidancePending: [.guidanceGiven: "remote guidance given by the after-sales engineer (3.2.1)"],
        .guidanceGiven: [
            .resolved: "the customer confirms the problem is solved (3.2.1)",
            .formPending: "not solvable remotely: escalated to return repair (3.2.2 a)",
            .descriptionPending: "not solvable remotely: escalated to on-site maintenance (3.2.3 a)",
        ],
        .formPending: [.formFilled: "Return Repair Request Form filled in accurately and fully (3.3.2 a)"],
        .formFilled: [.rmaIssued: "RMA number and delivery address issued (3.3.2 a)"],
        .rmaIssued: [.shipped: "parcel marked with the RMA number and shipped (3.3.2 b)"],
        .shipped: [.received: "parcel received at the factory (3.3.2 c)"],
        .received: [.inspected: "returned parts inspected on arrival (3.3.2 c)"],
        .inspected: [
            .repairedAndReturned: "in scope: repaired or replaced and shipped back at the factory's cost (3.3.2 d, 3.2.2 b)",
            .quoted: "out of scope: a repair quote was sent to the customer (3.3.2 d)",
        ],
        .descriptionPending: [.descriptionComplete: "fault description document complete (3.2.3 b, 3.3.3)"],
        .descriptionComplete: [.engineerScheduled: "after-sales engineer scheduled to visit (3.2.3 a)"],
        .engineerScheduled: [.visited: "engineer visited the site (3.2.3 a)"],
        .visited: [
            .fixedOnSite: "in scope: fixed free of charge; replaced parts kept by the manufacturer (3.2.3 a, d)",
            .quotedWithTravel: "out of scope: repair quote plus travel expenses charged to the customer (3.2.3 c)",
        ],
    ]

    /// What the state means, for tables and the case file.
    public var meaning: String {
        switch self {
        case .guidancePending: "waiting for remote guidance"
        case .guidanceGiven: "remote guidance given, waiting for the customer"
        case .resolved: "solved remotely"
        case .formPending: "waiting for the Return Repair Request Form"
        case .formFilled: "form complete, RMA number to be issued"
        case .rmaIssued: "RMA number issued, waiting for the parcel"
        case .shipped: "parcel on its way to the factory"
        case .received: "parcel received, to be inspected"
        case .inspected: "inspected, outcome to be recorded"
        case .repairedAndReturned: "repaired or replaced and shipped back"
        case .quoted: "out of warranty scope, repair quoted"
        case .descriptionPending: "waiting for the fault description document"
        case .descriptionComplete: "fault description complete, engineer to be scheduled"
        case .engineerScheduled: "engineer scheduled"
        case .visited: "engineer visited, outcome to be recorded"
        case .fixedOnSite: "fixed on site"
        case .quotedWithTravel: "out of warranty scope, repair and travel quoted"
        }
    }
}
