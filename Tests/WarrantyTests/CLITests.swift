import Diagnostics
import Foundation
import GRDB
import XCTest
@testable import Warranty

/// The built `ledsentry` binary, end to end: exit codes, JSON, and crash safety under kill -9.
final class CLITests: XCTestCase {
    var home: URL!

    override func setUpWithError() throws { home = try makeTemporaryDirectory(name) }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: home) }

    /// The binary sits beside the test bundle in the build directory.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["LEDSENTRY_BIN"] { return URL(fileURLWithPath: path) }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("ledsentry")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/release/ledsentry")
    }

    struct Result { var status: Int32; var out: String; var err: String }

    func start(_ args: [String]) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["LEDSENTRY_HOME"] = home.path
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, out, err)
    }

    @discardableResult
    func run(_ args: String...) throws -> Result { try run(args) }

    func run(_ args: [String]) throws -> Result {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build ledsentry first: \(Self.binary.path)")
        let (p, out, err) = try start(args)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func addProduct(_ serial: String = "KJ-2025-0042", extra: [String] = ["--card", "WC-7781"]) throws {
        let r = try run(["products", "add", "--serial", serial, "--model", "KJ-P3.9", "--customer", "Riverside Arena",
                         "--contract-date", "2025-06-01", "--warranty-months", "24", "--contact-name", "Li Wei",
                         "--contact-phone", "+86 23 5555 0101", "--screen", "1024x512"] + extra)
        XCTAssertEqual(r.status, 0, r.err)
    }

    func writeFindings(_ findings: [Finding], name: String = "findings.json") throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let url = home.appendingPathComponent(name)
        try encoder.encode(FindingList(findings: findings)).write(to: url)
        return url.path
    }

    func testIngestShowTransitionRMAAndJSON() throws {
        try addProduct()
        let png = home.appendingPathComponent("annotated.png")
        try Data("picture".utf8).write(to: png)
        let findings = try writeFindings([deadModule, hotCabinet])
        var r = try run("cases", "ingest", "--product", "KJ-2025-0042", "--findings", findings, "--evidence", png.path, "--json")
        XCTAssertEqual(r.status, 0, r.err)
        let summary = try JSONDecoder.iso.decode(WarrantyIntake.Summary.self, from: Data(r.out.utf8))
        XCTAssertEqual(summary.cases.map(\.service), [.returnRepair, .onSite])
        XCTAssertTrue(FileManager.default.fileExists(atPath: summary.cases[0].bundle!))
        XCTAssertTrue(summary.cases[0].annotatedImages[0].hasSuffix("#evidence/annotated.png"))

        // Running it again opens no duplicate.
        r = try run("cases", "ingest", "--product", "KJ-2025-0042", "--findings", findings, "--evidence", png.path)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("updated"))
        r = try run("cases", "list", "--json")
        XCTAssertEqual(try JSONDecoder.iso.decode([WarrantyCase].self, from: Data(r.out.utf8)).count, 2)

        r = try run("cases", "transition", "1", "--to", "shipped")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("allows only: form-filled"), r.err)
        r = try run("cases", "transition", "CASE-000001", "--to", "form-filled", "--actor", "li.wei")
        XCTAssertEqual(r.status, 0, r.err)
        r = try run("rma", "issue", "1", "--address", "KONJUMP receiving point, Chongqing")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("Clearly mark the RMA number RMA-"), r.out)
        r = try run("cases", "show", "1")
        XCTAssertTrue(r.out.contains("li.wei"))
        XCTAssertTrue(r.out.contains("Next: shipped"))

        r = try run("cases", "export", "2", "--out", home.appendingPathComponent("case2.zip").path)
        XCTAssertEqual(r.status, 0, r.err)
        r = try run("cases", "verify", home.appendingPathComponent("case2.zip").path)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("intact"))
        let bundle = try ZIPTamper.appendEntry(to: home.appendingPathComponent("case2.zip"), name: "evidence/planted.png")
        r = try run("cases", "verify", bundle.path)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.out.contains("ADDED    evidence/planted.png"), r.out)
        XCTAssertEqual(try run("cases", "check").status, 0)
    }

    func testExitCodesForBadInput() throws {
        try addProduct()
        let findings = try writeFindings([deadModule])
        var r = try run("cases", "ingest", "--product", "NOPE", "--findings", findings)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("not in the product registry"), r.err)
        let bad = home.appendingPathComponent("bad.json")
        try Data("{\"findings\": [{\"source\": \"optical\"}]}".utf8).write(to: bad)
        r = try run("cases", "ingest", "--product", "KJ-2025-0042", "--findings", bad.path)
        XCTAssertEqual(r.status, 4)
        XCTAssertTrue(r.err.contains("cannot read findings file"), r.err)
        r = try run("cases", "ingest", "--product", "KJ-2025-0042", "--findings", home.appendingPathComponent("absent.json").path)
        XCTAssertEqual(r.status, 4)
        r = try run("cases", "ingest", "--product", "KJ-2025-0042", "--findings", findings, "--evidence", "/nonexistent/capture.png")
        XCTAssertEqual(r.status, 4)
        r = try run("cases", "ingest", "--findings", findings)
        // A missing option is caught by ArgumentParser; the root command maps it to 2.
        XCTAssertEqual(r.status, 2, "usage error: \(r.err)")
        r = try run("cases", "transition", "1", "--to", "teleported")
        XCTAssertEqual(r.status, 2)
        r = try run("cases", "show", "77")
        XCTAssertEqual(r.status, 1)
        r = try run("cases", "verify", findings)
        XCTAssertEqual(r.status, 4)
        r = try run("products", "add", "--serial", "X", "--model", "M", "--customer", "C", "--contract-date", "2025-02-30")
        XCTAssertEqual(r.status, 2)

        // Missing card: the case opens, marked, and says what to supply.
        try addProduct("KJ-NOCARD", extra: [])
        r = try run("cases", "ingest", "--product", "KJ-NOCARD", "--findings", findings)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("MISSING: Supply the warranty card number or the order number"), r.out)

        // A corrupt store: exit 5 and the file stays as it was.
        let db = home.appendingPathComponent("broken.sqlite")
        try Data(repeating: 0x5A, count: 10_000).write(to: db)
        r = try run("cases", "list", "--db", db.path)
        XCTAssertEqual(r.status, 5)
        XCTAssertTrue(r.err.contains("not an SQLite database"), r.err)
        XCTAssertEqual(try Data(contentsOf: db), Data(repeating: 0x5A, count: 10_000))
    }

    func testHooksStatusAndRetryThroughTheCLI() throws {
        let sink = home.appendingPathComponent("sink.jsonl")
        let flag = home.appendingPathComponent("receiver-up")
        try Data("""
            hooks:
              - name: ticketing
                command: ["/bin/sh", "-c", "test -e '\(flag.path)' && cat >> '\(sink.path)' && echo >> '\(sink.path)'"]
            """.utf8).write(to: home.appendingPathComponent("hooks.yaml"))
        try addProduct()
        var r = try run("cases", "ingest", "--product", "KJ-2025-0042", "--findings", try writeFindings([deadModule, brokenChain]))
        XCTAssertEqual(r.status, 0, r.err)
        r = try run("hooks", "status")
        XCTAssertTrue(r.out.contains("1 pending") || r.out.contains("2 pending"), r.out)
        XCTAssertEqual(try run("hooks", "retry").status, 1)
        XCTAssertTrue(FileManager.default.createFile(atPath: flag.path, contents: nil))
        r = try run("hooks", "retry", "--json")
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertEqual(try String(contentsOf: sink, encoding: .utf8).split(separator: "\n").count, 2)
        XCTAssertTrue(try run("hooks", "status").out.contains("0 pending"))
    }

    /// Processes opening the same new store at once: one creates it, none sees it half made.
    func testConcurrentFirstOpensOfANewStore() throws {
        for round in 0..<5 {
            let db = home.appendingPathComponent("fresh-\(round).sqlite").path
            let processes = try (0..<4).map { _ in try start(["cases", "list", "--json", "--db", db]) }
            for (p, out, err) in processes {
                _ = out.fileHandleForReading.readDataToEndOfFile()
                let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                p.waitUntilExit()
                XCTAssertEqual(p.terminationStatus, 0, message)
            }
        }
    }

    /// Four processes recording the same faults at once still open each case once, and
    /// three processes delivering hooks at once deliver each event once.
    func testConcurrentProcessesNeitherDuplicateCasesNorDeliveries() throws {
        let sink = home.appendingPathComponent("sink.jsonl")
        let flag = home.appendingPathComponent("up")
        // Each delivery appends its event id as one line (O_APPEND writes of a short line do not interleave).
        try Data("""
            hooks:
              - name: ids
                command: ["/bin/sh", "-c", "test -e '\(flag.path)' && cat > /dev/null && echo $LEDSENTRY_EVENT_ID >> '\(sink.path)'"]
            """.utf8).write(to: home.appendingPathComponent("hooks.yaml"))
        try addProduct()
        let findings = try writeFindings([deadModule, hotCabinet, brokenChain])
        let processes = try (0..<4).map { _ in
            try start(["cases", "ingest", "--product", "KJ-2025-0042", "--findings", findings, "--no-bundles", "--json"])
        }
        for (p, out, _) in processes {
            _ = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
        }
        let store = try WarrantyStore(path: home.appendingPathComponent("warranty.sqlite"))
        let cases = try store.cases()
        XCTAssertEqual(cases.count, 3)
        XCTAssertEqual(cases.map(\.occurrences), [4, 4, 4])

        XCTAssertTrue(FileManager.default.createFile(atPath: flag.path, contents: nil))
        let retries = try (0..<3).map { _ in try start(["hooks", "retry", "--json"]) }
        for (p, out, _) in retries {
            _ = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
        }
        XCTAssertEqual(try run("hooks", "retry").status, 0, "nothing left pending")
        let delivered = try String(contentsOf: sink, encoding: .utf8).split(separator: "\n").map(String.init)
        let expected = try store.outbox().map(\.eventId)
        XCTAssertEqual(delivered.count, expected.count, "each event delivered once")
        XCTAssertEqual(Set(delivered), Set(expected))
        XCTAssertEqual(delivered, expected, "and in order")
    }

    /// kill -9 at random moments while `cases ingest` opens cases; then every case must be
    /// whole, no case may point at a missing file, and a second run must complete the work.
    func testKillNineDuringIngestLeavesWholeCasesAndASecondRunCompletes() throws {
        try addProduct()
        var generator = SystemRandomNumberGenerator()
        var runs: [(findings: String, capture: String)] = []
        for i in 0..<8 {
            var findings = [Finding(source: .optical, location: FaultLocation(cabinet: 1 + i % 3, module: i), kind: .deadModule,
                                    evidence: [EvidenceReference(name: "capture-\(i).png", role: .capture)])]
            findings.append(Finding(source: .electrical, location: FaultLocation(cabinet: 1 + i % 3), kind: .overTemperature))
            findings.append(Finding(source: .telemetry, location: FaultLocation(cabinet: 4, module: i), kind: .dataChainBroken))
            let capture = home.appendingPathComponent("capture-\(i).png")
            try Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: capture)
            runs.append((try writeFindings(findings, name: "findings-\(i).json"), capture.path))
        }
        var killed = 0, finished = 0
        for round in 0..<30 {
            let run = runs[round % runs.count]
            let (p, _, _) = try start(["cases", "ingest", "--product", "KJ-2025-0042", "--findings", run.findings,
                                       "--evidence", run.capture, "--partial", "--json"])
            usleep(UInt32.random(in: 0..<300_000, using: &generator))
            if p.isRunning { kill(p.processIdentifier, SIGKILL); killed += 1 }
            p.waitUntilExit()
            if p.terminationReason == .exit { finished += 1 }
        }
        XCTAssertGreaterThan(killed, 0, "no run was killed: the test proved nothing")
        print("kill -9 test: \(killed) of 30 ingest runs killed, \(finished) finished")

        // The store after the kills: whole cases only.
        let store = try WarrantyStore(path: home.appendingPathComponent("warranty.sqlite"))
        XCTAssertEqual(try store.checkIntegrity(), [])
        print("kill -9 test: \(try store.cases().count) cases whole after the kills")
        try store.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM caseFinding WHERE runId NOT IN (SELECT id FROM inspectionRun)"), 0)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT fingerprint FROM warrantyCase GROUP BY fingerprint HAVING count(*) > 1)"), 0)
            XCTAssertEqual(try Int.fetchOne(db, sql: """
                SELECT count(*) FROM inspectionRun r WHERE NOT EXISTS (SELECT 1 FROM caseFinding f WHERE f.runId = r.id)
                """), 0, "a recorded run without its findings")
        }

        // A second, uninterrupted pass completes the work with no duplicate.
        for run in runs {
            let r = try self.run(["cases", "ingest", "--product", "KJ-2025-0042", "--findings", run.findings,
                                  "--evidence", run.capture, "--partial"])
            XCTAssertEqual(r.status, 0, r.err)
        }
        let cases = try store.cases()
        XCTAssertEqual(cases.count, 8 + 3 + 8, "8 modules, 3 cabinets, 8 chains; killed \(killed), finished \(finished)")
        XCTAssertEqual(Set(cases.map(\.fingerprint)).count, cases.count)
        XCTAssertEqual(try store.checkIntegrity(), [])
        XCTAssertEqual(try run("cases", "check").status, 0)
    }
}

extension JSONDecoder {
    static let iso: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}
