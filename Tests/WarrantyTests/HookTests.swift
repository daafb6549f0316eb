import Diagnostics
import Foundation
import XCTest
@testable import Warranty

/// Hooks through the durable outbox, against a real HTTP receiver on loopback (python3's
/// http.server) that is down, then flaky, then up.
final class HookTests: XCTestCase {
    var dir: URL!
    var receiver: Process?

    override func setUpWithError() throws { dir = try makeTemporaryDirectory(name) }
    override func tearDownWithError() throws {
        stopReceiver()
        try? FileManager.default.removeItem(at: dir)
    }

    static let receiverScript = #"""
    import hashlib, hmac, http.server, json, sys
    port, secret, log, fail_first = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], int(sys.argv[4])
    state = {"failures_left": fail_first}
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state["failures_left"] > 0:
                state["failures_left"] -= 1
                self.send_response(503); self.end_headers(); return
            expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            payload = json.loads(body)
            with open(log, "a") as f:
                f.write(json.dumps({"id": self.headers["X-LEDSentry-Event-Id"], "event": self.headers["X-LEDSentry-Event"],
                                    "bodyId": payload["eventId"], "case": payload["case"]["reference"],
                                    "signed": hmac.compare_digest(expected, self.headers["X-LEDSentry-Signature"])}) + "\n")
            self.send_response(204); self.end_headers()
        def log_message(self, *args): pass
    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

    /// Starts the receiver; port 0 picks a free one. Returns the port it listens on.
    func startReceiver(port: Int, failFirst: Int = 0) throws -> Int {
        let script = dir.appendingPathComponent("receiver.py")
        try Data(Self.receiverScript.utf8).write(to: script)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script.path, String(port), "s3cret", dir.appendingPathComponent("received.jsonl").path, String(failFirst)]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        receiver = p
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let actual = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            // python3 is a test dependency (make test-deps): a receiver that cannot start is a
            // failure, not a reason to skip the hook tests.
            throw ReceiverDidNotStart(output: String(decoding: line, as: UTF8.self))
        }
        return actual
    }

    func stopReceiver() {
        guard let p = receiver else { return }
        // SIGKILL: a test runner's thread may block SIGTERM, and children inherit the mask.
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        receiver = nil
    }

    struct Received: Decodable { var id: String; var event: String; var bodyId: String; var `case`: String; var signed: Bool }

    func received() throws -> [Received] {
        let url = dir.appendingPathComponent("received.jsonl")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Received.self, from: Data($0.utf8)) }
    }

    func testReceiverDownThenUpGetsEveryEventInOrderExactlyOnce() async throws {
        // Find a free port, then take the receiver down: it is "down" while cases change.
        let port = try startReceiver(port: 0)
        stopReceiver()
        let hook = Hook(name: "crm", url: "http://127.0.0.1:\(port)/ledsentry", secret: "s3cret", timeout: 3)
        let fx = try Fixture(dir: dir, hooks: [hook])
        let dispatcher = HookDispatcher(store: fx.store)

        try fx.ingest([deadModule, brokenChain])                       // 2 x opened
        let chain = try fx.store.cases().first { $0.kind == .dataChainBroken }!.id
        try fx.store.transition(caseID: chain, to: .guidanceGiven, actor: "eng")  // state-changed
        try fx.ingest([deadModule, brokenChain], evidence: [try fx.file("capture.png", "c")])  // 2 x evidence-added
        let expected = try fx.store.outbox().map(\.eventId)
        XCTAssertEqual(expected.count, 5)

        var report = await dispatcher.deliverDue()
        XCTAssertEqual(report.delivered, 0)
        XCTAssertEqual(report.pending, 5)
        XCTAssertTrue(report.errors[0].contains("127.0.0.1:\(port)"), report.errors[0])
        // Backoff: a second run right away does not hammer the receiver.
        let attempts = try fx.store.outbox()[0].attempts
        report = await dispatcher.deliverDue()
        XCTAssertEqual(try fx.store.outbox()[0].attempts, attempts)
        XCTAssertGreaterThan(try fx.store.outbox()[0].nextAttemptAt, Date())

        // Up again on the same port, but its first answer is a 503: order must still hold.
        _ = try startReceiver(port: port, failFirst: 1)
        report = await dispatcher.deliverDue(force: true)
        XCTAssertEqual(report.delivered, 0)
        XCTAssertEqual(report.failed, 1)
        report = await dispatcher.deliverDue(force: true)
        XCTAssertEqual(report.delivered, 5)
        XCTAssertEqual(report.pending, 0)
        report = await dispatcher.deliverDue(force: true)
        XCTAssertEqual(report.delivered, 0)

        let got = try received()
        XCTAssertEqual(got.map(\.id), expected, "every event, in order, exactly once")
        XCTAssertEqual(got.map(\.event), ["case.opened", "case.opened", "case.state-changed", "case.evidence-added", "case.evidence-added"])
        XCTAssertTrue(got.allSatisfy { $0.signed && $0.id == $0.bodyId })
    }

    func testCommandHookGetsCaseJSONOnStdin() async throws {
        let sink = dir.appendingPathComponent("sink.jsonl")
        let hook = Hook(name: "script", events: [.caseOpened], command: ["/bin/sh", "-c", "cat >> '\(sink.path)'; echo >> '\(sink.path)'"])
        let fx = try Fixture(dir: dir, hooks: [hook])
        try fx.ingest([hotCabinet])
        try fx.ingest([hotCabinet])  // evidence-added: not subscribed
        let report = await HookDispatcher(store: fx.store).deliverDue()
        XCTAssertEqual(report.delivered, 1)
        let lines = try String(contentsOf: sink, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let payload = try decoder.decode(WarrantyStore.HookPayload.self, from: Data(lines[0].utf8))
        XCTAssertEqual(payload.event, .caseOpened)
        XCTAssertEqual(payload.case.kind, .overTemperature)
        XCTAssertEqual(payload.case.service.type, .onSite)
    }

    func testFailingCommandStaysPendingAndIsRetried() async throws {
        let flag = dir.appendingPathComponent("ok")
        let hook = Hook(name: "gate", command: ["/bin/sh", "-c", "cat > /dev/null; test -e '\(flag.path)'"])
        let fx = try Fixture(dir: dir, hooks: [hook])
        try fx.ingest([hotCabinet])
        var report = await HookDispatcher(store: fx.store).deliverDue()
        XCTAssertEqual(report.pending, 1)
        XCTAssertTrue(report.errors[0].contains("exited with status 1"))
        XCTAssertTrue(FileManager.default.createFile(atPath: flag.path, contents: nil))
        report = await HookDispatcher(store: fx.store).deliverDue(force: true)
        XCTAssertEqual(report.delivered, 1)
        XCTAssertEqual(report.pending, 0)
    }

    func testIngestAndNotifyDeliversAndReports() async throws {
        let sink = dir.appendingPathComponent("sink.jsonl")
        let hook = Hook(name: "script", command: ["/bin/sh", "-c", "cat >> '\(sink.path)'; echo >> '\(sink.path)'"])
        let fx = try Fixture(dir: dir, hooks: [hook])
        let summary = try await fx.intake.ingestAndNotify(findings: FindingList(findings: [hotCabinet, brokenChain]),
                                                          productSerial: "KJ-2025-0042", evidence: [],
                                                          options: .init(actor: "inspect", now: runDay))
        XCTAssertEqual(summary.cases.count, 2)
        XCTAssertEqual(summary.hooks?.delivered, 2)
        XCTAssertEqual(summary.hooks?.pending, 0)
        XCTAssertEqual(try String(contentsOf: sink, encoding: .utf8).split(separator: "\n").count, 2)
    }

    func testEventsOfARemovedHookAreReportedNotLost() async throws {
        let fx = try Fixture(dir: dir, hooks: [Hook(name: "old", command: ["/bin/false"])])
        try fx.ingest([hotCabinet])
        let without = try WarrantyStore(path: fx.store.path, hooks: [])
        let report = await HookDispatcher(store: without).deliverDue(force: true)
        XCTAssertEqual(report.pending, 1)
        XCTAssertTrue(report.errors.contains { $0.contains("old/command: 1 event(s) wait for a hook that is no longer configured") }, "\(report.errors)")
    }

    func testSignatureIsHMACSHA256OfTheBody() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        XCTAssertEqual(HookDispatcher.signature(body: Data("what do ya want for nothing?".utf8), secret: "Jefe"),
                       "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testHookFileIsValidated() throws {
        let bad = dir.appendingPathComponent("hooks.yaml")
        try Data("hooks:\n  - name: x\n    url: http://127.0.0.1:1/\n".utf8).write(to: bad)
        XCTAssertThrowsError(try Hook.load(from: bad)) { XCTAssertTrue("\($0)".contains("no secret")) }
        try Data("hooks:\n  - name: x\n".utf8).write(to: bad)
        XCTAssertThrowsError(try Hook.load(from: bad)) { XCTAssertTrue("\($0)".contains("neither a command nor a url")) }
        try Data("hooks:\n  - name: x\n    url: http://127.0.0.1:1/\n    secret: k\n    events: [case.opened]\n".utf8).write(to: bad)
        XCTAssertEqual(try Hook.load(from: bad).first?.events, [.caseOpened])
    }
}

/// The loopback HTTP receiver of these tests printed no port.
struct ReceiverDidNotStart: Error, CustomStringConvertible {
    let output: String
    var description: String { "python3 receiver did not start (printed: \(output.debugDescription))" }
}
