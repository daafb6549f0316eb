import Diagnostics
import Foundation
import GRDB
import XCTest
@testable import Warranty

/// Cases: opening, dedupe, absence, the three service processes, RMA numbers, bad input.
final class CaseTests: XCTestCase {
    var dir: URL!
    var fx: Fixture!

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory(name)
        fx = try Fixture(dir: dir)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testFindingsOpenOneCaseEachWithPolicyDecisions() throws {
        let png = try fx.file("annotated.png", "png-bytes")
        let summary = try fx.ingest([deadModule, hotCabinet, brokenChain], evidence: [png])
        XCTAssertEqual(summary.cases.map(\.action), [.opened, .opened, .opened])
        let cases = try fx.store.cases()
        XCTAssertEqual(cases.map(\.service.type), [.returnRepair, .onSite, .remoteGuidance])
        XCTAssertEqual(cases.map(\.state), [.formPending, .descriptionPending, .guidancePending])
        XCTAssertEqual(cases[1].faultClass.class, .safety)
        XCTAssertEqual(cases[0].evidence.first { $0.name == "annotated.png" }?.role, .annotatedImage)
        // The annotated picture belongs to the module's case, and to the on-site case that
        // needs photos (3.2.3 b), not to the remote one; the fault list goes to all.
        XCTAssertTrue(cases[1].evidence.contains { $0.name == "annotated.png" })
        XCTAssertFalse(cases[2].evidence.contains { $0.name == "annotated.png" })
        XCTAssertTrue(cases.allSatisfy { $0.evidence.contains { $0.role == .faultList } })
        XCTAssertEqual(cases[0].history.first?.event, .opened)
        XCTAssertEqual(cases[0].history.first?.actor, "test")
    }

    func testSameFaultTwiceNeverOpensASecondCase() throws {
        let first = try fx.ingest([deadModule])
        let second = try fx.ingest([deadModule, Finding(source: .moduleTest, location: deadModule.location, kind: .deadModule)])
        XCTAssertEqual(second.cases.map(\.action), [.updated])
        XCTAssertEqual(first.cases[0].id, second.cases[0].id)
        let c = try fx.store.warrantyCase(id: first.cases[0].id)
        XCTAssertEqual(try fx.store.cases().count, 1)
        XCTAssertEqual(c.occurrences, 2)
        XCTAssertEqual(c.findings.count, 3)
        XCTAssertEqual(Set(c.findings.map(\.runID)).count, 2)
        XCTAssertTrue(c.history.contains { $0.event == .seenAgain })
        // Each run's fault list is new evidence on the same case.
        XCTAssertEqual(c.evidence.filter { $0.role == .faultList }.count, 2)
    }

    func testFaultThatDisappearsIsNotedAndComesBack() throws {
        try fx.ingest([deadModule, brokenChain])
        let later = try fx.ingest([deadModule])
        XCTAssertEqual(later.cases.filter { $0.action == .absent }.map(\.kind), [.dataChainBroken])
        let chain = try fx.store.cases().first { $0.kind == .dataChainBroken }!
        XCTAssertNotNil(chain.absentSince)
        XCTAssertEqual(chain.history.last?.event, .faultAbsent)
        XCTAssertEqual(chain.state, .guidancePending, "absence is noted, the case is not closed silently")
        // A partial run says nothing about what it did not look at.
        try fx.ingest([deadModule], partial: true)
        XCTAssertEqual(try fx.store.warrantyCase(id: chain.id).history.filter { $0.event == .faultAbsent }.count, 1)
        try fx.ingest([deadModule, brokenChain])
        let back = try fx.store.warrantyCase(id: chain.id)
        XCTAssertNil(back.absentSince)
        XCTAssertTrue(back.history.last { $0.event == .seenAgain }!.note.contains("back after being absent"))
    }

    func testUnknownProductIsRefused() throws {
        XCTAssertThrowsError(try fx.ingest([deadModule], serial: "NOPE-1")) { error in
            XCTAssertEqual(error as? RegistryError, .unknownProduct(serial: "NOPE-1"))
            XCTAssertTrue("\(error)".contains("products add"))
        }
        XCTAssertEqual(try fx.store.cases().count, 0)
    }

    func testMissingCardOpensCaseThatSaysWhatToSupply() throws {
        try fx.store.addProduct(sampleProduct("KJ-NOCARD") { $0.warrantyCardNumber = nil }, replace: false)
        let summary = try fx.ingest([deadModule], serial: "KJ-NOCARD")
        XCTAssertEqual(summary.cases.count, 1)
        XCTAssertTrue(summary.missing[0].contains("warranty card number or the order number"))
        let id = summary.cases[0].id
        XCTAssertThrowsError(try fx.store.transition(caseID: id, to: .formFilled, actor: "eng")) { error in
            guard case let .illegalTransition(_, _, _, reason) = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("warranty card number"), reason)
        }
        // Once the registry has the order number, the form can be completed.
        try fx.store.addProduct(sampleProduct("KJ-NOCARD") { $0.warrantyCardNumber = nil; $0.orderNumber = "SO-2025-118" }, replace: true)
        XCTAssertEqual(try fx.store.warrantyCase(id: id).missing, [])
        XCTAssertEqual(try fx.store.transition(caseID: id, to: .formFilled, actor: "eng").state, .formFilled)
    }

    func testDuplicateProductNeedsReplace() throws {
        XCTAssertThrowsError(try fx.store.addProduct(sampleProduct())) { XCTAssertEqual($0 as? RegistryError, .duplicate(serial: "KJ-2025-0042")) }
        XCTAssertThrowsError(try fx.store.addProduct(sampleProduct("X") { $0.contractDate = "2025-13-40" }))
    }

    func testOutOfWarrantyCaseOpensButCannotBeRepairedFree() throws {
        try fx.store.addProduct(sampleProduct("KJ-OLD") { $0.contractDate = "2020-01-01" })
        let s = try fx.ingest([deadModule], serial: "KJ-OLD")
        XCTAssertEqual(s.scope.status, .outOfWarranty)
        let id = s.cases[0].id
        for state in [CaseState.formFilled] { try fx.store.transition(caseID: id, to: state, actor: "eng") }
        try fx.store.issueRMA(caseID: id, deliveryAddress: "Factory gate 3", actor: "eng")
        for state in [CaseState.shipped, .received, .inspected] { try fx.store.transition(caseID: id, to: state, actor: "eng") }
        XCTAssertThrowsError(try fx.store.transition(caseID: id, to: .repairedAndReturned, actor: "eng")) {
            XCTAssertTrue("\($0)".contains("quote"), "\($0)")
        }
        XCTAssertEqual(try fx.store.transition(caseID: id, to: .quoted, actor: "eng").state, .quoted)
    }

    // MARK: The three service processes

    func testRemoteGuidanceResolved() throws {
        let id = try fx.ingest([brokenChain]).cases[0].id
        try fx.store.transition(caseID: id, to: .guidanceGiven, actor: "eng", note: "phoned Li Wei")
        let c = try fx.store.transition(caseID: id, to: .resolved, actor: "eng")
        XCTAssertEqual(c.state, .resolved)
        XCTAssertEqual(c.history.filter { $0.event == .stateChanged }.map(\.toState), [.guidanceGiven, .resolved])
        XCTAssertTrue(c.history.contains { $0.note.contains("phoned Li Wei") && $0.actor == "eng" })
        assertRefused(id, .guidanceGiven, "closed")
    }

    func testRemoteGuidanceEscalatesToReturnRepairAndOnSite() throws {
        let a = try fx.ingest([brokenChain]).cases[0].id
        try fx.store.transition(caseID: a, to: .guidanceGiven, actor: "eng")
        let escalated = try fx.store.transition(caseID: a, to: .formPending, actor: "eng")
        XCTAssertEqual(escalated.service.type, .returnRepair)
        XCTAssertEqual(escalated.service.clause, "3.2.2 a")
        let b = try fx.ingest([Finding(source: .telemetry, location: FaultLocation(cabinet: 9), kind: .looseCable)], partial: true).cases[0].id
        assertRefused(b, .descriptionPending, "allows only: guidance-given")
        try fx.store.transition(caseID: b, to: .guidanceGiven, actor: "eng")
        XCTAssertEqual(try fx.store.transition(caseID: b, to: .descriptionPending, actor: "eng").service.type, .onSite)
    }

    func testReturnRepairFullProcessWithRMA() throws {
        let id = try fx.ingest([deadModule]).cases[0].id
        assertRefused(id, .shipped, "allows only: form-filled")
        try fx.store.transition(caseID: id, to: .formFilled, actor: "customer")
        assertRefused(id, .rmaIssued, "rma issue")
        XCTAssertThrowsError(try fx.store.issueRMA(caseID: id, deliveryAddress: "  ", actor: "eng"))
        let c = try fx.store.issueRMA(caseID: id, deliveryAddress: "KONJUMP receiving point, Chongqing", actor: "eng")
        XCTAssertEqual(c.rmaNumber, "RMA-2026-000001")
        XCTAssertEqual(c.state, .rmaIssued)
        XCTAssertThrowsError(try fx.store.issueRMA(caseID: id, deliveryAddress: "x", actor: "eng")) {
            XCTAssertTrue("\($0)".contains("already issued"))
        }
        for s in [CaseState.shipped, .received, .inspected, .repairedAndReturned] {
            XCTAssertEqual(try fx.store.transition(caseID: id, to: s, actor: "factory").state, s)
        }
        assertRefused(id, .quoted, "closed")
        let form = ReturnRepairForm(try fx.store.warrantyCase(id: id))
        XCTAssertTrue(form.text.contains("Clearly mark the RMA number RMA-2026-000001"))
        XCTAssertTrue(form.text.contains("freight, insurance, customs taxes"))
        XCTAssertTrue(form.text.contains("pays only the shipping back"))
        XCTAssertTrue(form.html.contains("<div class=\"box\"><strong>Mark the parcel:</strong>"))
        XCTAssertTrue(form.html.contains("KONJUMP receiving point, Chongqing"))
    }

    func testRMANumbersAreUniqueAndNeverReused() throws {
        var numbers: [String] = []
        for module in 1...3 {
            let f = Finding(source: .moduleTest, location: FaultLocation(cabinet: 1, module: module), kind: .deadModule)
            let id = try fx.ingest([f], partial: true).cases[0].id
            try fx.store.transition(caseID: id, to: .formFilled, actor: "eng")
            numbers.append(try fx.store.issueRMA(caseID: id, deliveryAddress: "Gate 3", actor: "eng", at: runDay).rmaNumber!)
        }
        XCTAssertEqual(numbers, ["RMA-2026-000001", "RMA-2026-000002", "RMA-2026-000003"])
        // Reopening the store continues the sequence; a new year starts its own.
        let reopened = try WarrantyStore(path: fx.store.path)
        let f = Finding(source: .moduleTest, location: FaultLocation(cabinet: 1, module: 9), kind: .deadModule)
        let id = try fx.ingest([f], partial: true).cases[0].id
        try reopened.transition(caseID: id, to: .formFilled, actor: "eng")
        let next = try reopened.issueRMA(caseID: id, deliveryAddress: "Gate 3", actor: "eng", at: Product.parseDate("2027-01-02")!)
        XCTAssertEqual(next.rmaNumber, "RMA-2027-000001")
        let all = try reopened.read { db in try String.fetchAll(db, sql: "SELECT number FROM rmaNumber") }
        XCTAssertEqual(Set(all).count, all.count)
    }

    func testOnSiteProcessNeedsPhotosAndContact() throws {
        let id = try fx.ingest([hotCabinet]).cases[0].id
        assertRefused(id, .descriptionComplete, "photos or videos")
        let photo = try fx.file("annotated-cabinet3.png", "thermal picture")
        try fx.ingest([hotCabinet], evidence: [photo])
        let c = try fx.store.transition(caseID: id, to: .descriptionComplete, actor: "customer")
        XCTAssertEqual(c.state, .descriptionComplete)
        let doc = OnSiteFaultDescription(c) { "evidence/" + $0.name }
        XCTAssertTrue(doc.text.contains("evidence/annotated-cabinet3.png"))
        XCTAssertTrue(doc.text.contains("Li Wei"))
        XCTAssertTrue(doc.text.contains("temperature 92 C (limit 75)"))
        XCTAssertTrue(doc.html.contains("<img src=\"evidence/annotated-cabinet3.png\""))
        for s in [CaseState.engineerScheduled, .visited, .fixedOnSite] {
            XCTAssertEqual(try fx.store.transition(caseID: id, to: s, actor: "eng").state, s)
        }
        XCTAssertTrue(try fx.store.warrantyCase(id: id).history.last!.note.contains("kept by the manufacturer"))
    }

    func testOnSiteOutOfScopeIsQuotedWithTravel() throws {
        let id = try fx.ingest([Finding(source: .optical, location: FaultLocation(cabinet: 7), kind: .deadCabinet)],
                               evidence: [try fx.file("capture.jpg", "jpeg")]).cases[0].id
        for s in [CaseState.descriptionComplete, .engineerScheduled, .visited, .quotedWithTravel] {
            try fx.store.transition(caseID: id, to: s, actor: "eng")
        }
        XCTAssertTrue(try fx.store.warrantyCase(id: id).history.last!.note.contains("travel expenses"))
    }

    func testEveryListedMoveIsReachableAndNothingElse() throws {
        // The table is the state machine: each state's moves are exactly its listed targets.
        for state in CaseState.allCases {
            for target in CaseState.allCases {
                let allowed = CaseState.moves[state]?[target] != nil
                if allowed { XCTAssertFalse(state.isTerminal) }
            }
        }
        XCTAssertEqual(CaseState.allCases.filter(\.isTerminal), [.resolved, .repairedAndReturned, .quoted, .fixedOnSite, .quotedWithTravel])
    }

    func testEveryMoveNotInTheTableIsRefusedByTheStore() throws {
        let id = try fx.ingest([deadModule], evidence: [try fx.file("annotated.png", "p")]).cases[0].id
        var refused = 0
        for state in CaseState.allCases {
            for target in CaseState.allCases where CaseState.moves[state]?[target] == nil {
                // Put the case in `state` directly, then ask for the move.
                try fx.store.write { db in
                    try db.execute(sql: "UPDATE warrantyCase SET state = ? WHERE id = ?", arguments: [state.rawValue, id])
                }
                XCTAssertThrowsError(try fx.store.transition(caseID: id, to: target, actor: "eng"), "\(state) -> \(target)") { error in
                    guard case .illegalTransition = error as? StoreError else { return XCTFail("\(error)") }
                }
                XCTAssertEqual(try fx.store.warrantyCase(id: id).state, state, "a refused move changes nothing")
                refused += 1
            }
        }
        XCTAssertEqual(refused, 17 * 17 - 16)
    }

    func testCaseNotFound() {
        XCTAssertThrowsError(try fx.store.warrantyCase(id: 999)) { XCTAssertEqual($0 as? StoreError, .caseNotFound(999)) }
    }

    func assertRefused(_ id: Int64, _ target: CaseState, _ reasonContains: String, line: UInt = #line) {
        XCTAssertThrowsError(try fx.store.transition(caseID: id, to: target, actor: "eng"), line: line) { error in
            guard case let .illegalTransition(_, _, _, reason) = error as? StoreError else { return XCTFail("\(error)", line: line) }
            XCTAssertTrue(reason.contains(reasonContains), reason, line: line)
        }
    }
}
