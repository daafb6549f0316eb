import XCTest
import LEDLink
@testable import LEDLighting

/// A widget that misbehaves in ways the emulator does not: a reply cut off mid-frame, a
/// reply with a receive-error status, frames for something else first. Driven by a scripted
/// in-memory transport so every byte is under the test's control.
final class WidgetFaultTests: XCTestCase {
    /// Answers each write with the next scripted reply (possibly nothing).
    final class ScriptedTransport: Transport {
        let portName = "scripted"
        var replies: [[UInt8]]
        var pending: [UInt8] = []
        var written: [[UInt8]] = []
        init(_ replies: [[UInt8]]) { self.replies = replies }
        func write(_ bytes: [UInt8], deadline: Deadline) throws(LinkError) {
            written.append(bytes)
            if !replies.isEmpty { pending += replies.removeFirst() }
        }
        func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8] {
            if pending.isEmpty {
                while ContinuousClock.now < deadline { LEDLighting.sleep(for: .milliseconds(5)) }
                throw .timedOut(port: portName, operation: "read")
            }
            defer { pending.removeFirst(min(maxCount, pending.count)) }
            return Array(pending.prefix(maxCount))
        }
        func discardInput() throws(LinkError) { pending.removeAll() }
        func close() {}
    }

    let uid = RDMUID(manufacturer: 0x7FF0, device: 0x42)

    private func ackFrame(for request: [UInt8], data: [UInt8]) throws -> [UInt8] {
        let sent = try RDMPacket(parsing: request.dropFirst(4))
        let reply = RDMPacket(destination: sent.source, source: sent.destination, transactionNumber: sent.transactionNumber,
                              portOrResponseType: 0, commandClass: .getResponse, parameter: sent.parameter, parameterData: data)
        return USBProFrame(label: 5, payload: [0] + reply.serialized).serialized
    }

    func testTruncatedReplyTimesOutAndIsRetried() throws {
        // the first reply stops after 10 bytes; the retry (TN 1) gets a whole one
        let transport = ScriptedTransport([])
        let widget = USBProWidget(transport: transport, replyTimeout: .milliseconds(100))
        let first = RDMController(line: widget).packet(to: uid, .get, .deviceLabel, [], 0)
        var second = first
        second.transactionNumber = 1
        let cut = try ackFrame(for: USBProFrame(label: 7, payload: first.serialized).serialized, data: Array("ok".utf8))
        let whole = try ackFrame(for: USBProFrame(label: 7, payload: second.serialized).serialized, data: Array("ok".utf8))
        transport.replies = [Array(cut.prefix(10)), whole]
        let started = ContinuousClock.now
        let response = try RDMController(line: widget, retries: 1).get(uid, .deviceLabel)
        XCTAssertEqual(response.data, Array("ok".utf8))
        XCTAssertEqual(response.retries, 1)
        XCTAssertLessThan(started.duration(to: .now), .seconds(1))
    }

    func testReceiveErrorStatusAndStrayFramesAreNotTakenAsReplies() throws {
        let transport = ScriptedTransport([])
        let widget = USBProWidget(transport: transport, replyTimeout: .milliseconds(100))
        let probe = RDMController(line: widget).packet(to: uid, .get, .deviceLabel, [], 0)
        var retry = probe
        retry.transactionNumber = 1
        let good = try ackFrame(for: USBProFrame(label: 7, payload: retry.serialized).serialized, data: Array("ok".utf8))
        // 1st: a stray serial-number frame, then label 5 with status 0x01 (receive error)
        // 2nd: noise, then the good reply
        transport.replies = [USBProFrame(label: 10, payload: [1, 2, 3, 4]).serialized + USBProFrame(label: 5, payload: [1, 0xCC]).serialized,
                             [0x00, 0x13, 0x37] + good]
        let response = try RDMController(line: widget, retries: 1).get(uid, .deviceLabel)
        XCTAssertEqual(response.data, Array("ok".utf8))
        XCTAssertEqual(response.retries, 1)
    }

    func testEveryReplyCutShortEndsInAnErrorNotAHang() throws {
        let transport = ScriptedTransport(Array(repeating: [0x7E, 0x05, 0x20, 0x00, 0x00, 0xCC], count: 3))
        let widget = USBProWidget(transport: transport, replyTimeout: .milliseconds(80))
        let started = ContinuousClock.now
        XCTAssertThrowsError(try RDMController(line: widget, retries: 2).get(uid, .deviceInfo)) { error in
            guard case .badReply(_, _, let detail)? = error as? LightingError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("did not answer"), detail)
        }
        XCTAssertLessThan(started.duration(to: .now), .seconds(1), "3 attempts x 80 ms, no more")
        XCTAssertEqual(transport.written.count, 3)
    }
}
