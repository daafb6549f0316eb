import XCTest
@testable import LEDLighting

/// An in-memory DMX line with fake responders that only know discovery. Each fake is
/// named after how it behaves (after OLA's DiscoveryAgentTestHelper).
final class FakeDiscoveryLine: RDMLine {
    class Responder {
        let uid: RDMUID
        var muted = false
        init(_ uid: RDMUID) { self.uid = uid }
        func answersBranch() -> Bool { !muted }
        func answersMute() -> Bool { true }
    }
    /// Answers discovery once it has heard `packets` requests, then never again.
    final class VanishingResponder: Responder {
        var left: Int
        init(_ uid: RDMUID, after packets: Int) { left = packets; super.init(uid) }
        override func answersBranch() -> Bool { left -= 1; return left >= 0 && !muted }
        override func answersMute() -> Bool { left -= 1; return left >= 0 }
    }
    /// Answers DUB but ignores DISC_MUTE.
    final class UnmutableResponder: Responder {
        override func answersMute() -> Bool { false }
    }

    let controllerUID = RDMUID(manufacturer: 0x7FF0, device: 1)
    var responders: [Responder]
    var branches = 0

    init(_ responders: [Responder]) { self.responders = responders }

    func exchange(_ request: RDMPacket) throws(LightingError) -> RDMLineReply {
        switch request.parameter {
        case .discUnMute:
            responders.forEach { $0.muted = false }
            return .silence
        case .discUniqueBranch:
            branches += 1
            let lower = RDMUID(wire: request.parameterData[0..<6]).rawValue
            let upper = RDMUID(wire: request.parameterData[6..<12]).rawValue
            let replies = responders.filter { (lower...upper).contains($0.uid.rawValue) && $0.answersBranch() }
                .map { DiscoveryResponse.encode($0.uid) }
            guard let first = replies.first else { return .silence }
            // simultaneous replies: the bits OR together on the line
            return .received(replies.dropFirst().reduce(first) { zip($0, $1).map { $0 | $1 } })
        case .discMute:
            guard let target = responders.first(where: { $0.uid == request.destination }), target.answersMute() else {
                return .silence
            }
            target.muted = true
            let reply = RDMPacket(destination: request.source, source: target.uid,
                                  transactionNumber: request.transactionNumber, portOrResponseType: 0,
                                  commandClass: .discoveryResponse, parameter: .discMute, parameterData: [0, 0])
            return .received(reply.serialized)
        default:
            return .silence
        }
    }
}

final class DiscoveryTests: XCTestCase {
    private func discover(_ line: FakeDiscoveryLine) throws -> DiscoveryReport {
        try RDMDiscovery(controller: RDMController(line: line)).run()
    }

    private func uids(_ count: Int, seed: UInt64) -> [RDMUID] {
        var generator = SplitMix(seed: seed)
        return (0..<count).map { _ in RDMUID(manufacturer: 0x7FF0, device: UInt32(truncatingIfNeeded: generator.next())) }
    }

    func testEmptyLineFindsNothingWithOneBranch() throws {
        let report = try discover(FakeDiscoveryLine([]))
        XCTAssertEqual(report.uids, [])
        XCTAssertEqual(report.branches, 1)
    }

    func testOneResponder() throws {
        let uid = RDMUID(manufacturer: 0x7FF0, device: 0x2C4486D5)
        let report = try discover(FakeDiscoveryLine([.init(uid)]))
        XCTAssertEqual(report.uids, [uid])
        XCTAssertEqual(report.collisions, 0)
    }

    func testTwoRespondersCollideAndAreBothFound() throws {
        let found = uids(2, seed: 1)
        let report = try discover(FakeDiscoveryLine(found.map { .init($0) }))
        XCTAssertEqual(report.uids, found.sorted())
        XCTAssertGreaterThan(report.collisions, 0)
    }

    func testAdjacentUIDsCollideDownToTheLastBit() throws {
        let a = RDMUID(manufacturer: 0x7FF0, device: 0x1000), b = RDMUID(manufacturer: 0x7FF0, device: 0x1001)
        let line = FakeDiscoveryLine([.init(a), .init(b)])
        let report = try discover(line)
        XCTAssertEqual(report.uids, [a, b])
        XCTAssertGreaterThanOrEqual(report.collisions, 47) // one split per bit of the 48-bit space
    }

    func testThirtyTwoRespondersAllFound() throws {
        let found = uids(32, seed: 7)
        let report = try discover(FakeDiscoveryLine(found.map { .init($0) }))
        XCTAssertEqual(report.uids, found.sorted())
        XCTAssertFalse(report.incomplete)
    }

    func testResponderVanishingMidDiscoveryDoesNotHangAndOthersAreFound() throws {
        let healthy = uids(5, seed: 3)
        let ghost = RDMUID(manufacturer: 0x7FF0, device: 0x8000_0000)
        let line = FakeDiscoveryLine(healthy.map { .init($0) } + [FakeDiscoveryLine.VanishingResponder(ghost, after: 2)])
        let report = try discover(line)
        XCTAssertEqual(report.uids, healthy.sorted())
    }

    func testUnmutableResponderIsReportedNotLoopedOn() throws {
        let healthy = uids(3, seed: 11)
        let stubborn = RDMUID(manufacturer: 0x7FF0, device: 0x4242_4242)
        let report = try discover(FakeDiscoveryLine(healthy.map { .init($0) } + [FakeDiscoveryLine.UnmutableResponder(stubborn)]))
        XCTAssertEqual(report.uids, healthy.sorted())
        XCTAssertEqual(report.unmutable, [stubborn])
        XCTAssertFalse(report.incomplete)
    }
}

/// A tiny seeded generator so test UIDs are the same on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
