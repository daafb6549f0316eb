import Diagnostics
import Foundation
import GRDB
import XCTest
import ZIPFoundation
@testable import Warranty

/// The SQLite store and evidence files: refusal of files that are not ours, content addressing,
/// bundles and their verification.
final class StoreTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTemporaryDirectory(name) }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testGarbageFileIsRefusedAndLeftUntouched() throws {
        let path = dir.appendingPathComponent("warranty.sqlite")
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: path)
        XCTAssertThrowsError(try WarrantyStore(path: path)) { error in
            XCTAssertEqual(error as? StoreError, .notADatabase(path: path.path))
            XCTAssertTrue("\(error)".contains("left untouched"))
        }
        XCTAssertEqual(try Data(contentsOf: path), garbage)
    }

    func testForeignSQLiteDatabaseIsRefusedAndLeftUntouched() throws {
        let path = dir.appendingPathComponent("other.sqlite")
        try DatabaseQueue(path: path.path).write { db in
            try db.execute(sql: "CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL); INSERT INTO invoices VALUES (1, 9.5)")
        }
        let before = try Data(contentsOf: path)
        XCTAssertThrowsError(try WarrantyStore(path: path)) { error in
            XCTAssertEqual(error as? StoreError, .foreignDatabase(path: path.path))
        }
        XCTAssertEqual(try Data(contentsOf: path), before)
    }

    func testNewerSchemaIsRefused() throws {
        let path = dir.appendingPathComponent("warranty.sqlite")
        _ = try WarrantyStore(path: path)
        try DatabaseQueue(path: path.path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        XCTAssertThrowsError(try WarrantyStore(path: path)) { XCTAssertEqual($0 as? StoreError, .newerSchema(path: path.path)) }
    }

    func testCorruptPagesGiveAClearErrorNotACrash() throws {
        let path = dir.appendingPathComponent("warranty.sqlite")
        do {
            let fx = try Fixture(dir: dir)
            try fx.ingest([deadModule, hotCabinet, brokenChain])
        }
        // Keep the header (so it still looks like SQLite), overwrite every page after the first.
        var bytes = try Data(contentsOf: path)
        XCTAssertGreaterThan(bytes.count, 8192)
        for i in 4096..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: i &* 7) }
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: path.path + "-wal"))
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: path.path + "-shm"))
        try bytes.write(to: path)
        do {
            let store = try WarrantyStore(path: path)
            _ = try store.cases()
            XCTFail("a corrupt store was read as if whole")
        } catch let error as StoreError {
            switch error {
            case .corrupt, .notADatabase, .sqlite: XCTAssertTrue("\(error)".contains(path.path))
            default: XCTFail("unexpected \(error)")
            }
        }
    }

    func testLargeEvidenceIsStoredOnceAcrossCasesAndRuns() throws {
        let fx = try Fixture(dir: dir)
        let capture = dir.appendingPathComponent("capture-white.png")
        let big = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) })
        try big.write(to: capture)
        try fx.ingest([deadModule, hotCabinet, brokenChain], evidence: [capture])
        try fx.ingest([deadModule, hotCabinet, brokenChain], evidence: [capture])
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: fx.store.evidence.root.appendingPathComponent("sha256").path)
            .filter { !$0.contains("/") == false && $0.split(separator: "/").count == 2 }
        let bigBlobs = try blobs.filter {
            try FileManager.default.attributesOfItem(atPath: fx.store.evidence.root.appendingPathComponent("sha256/\($0)").path)[.size] as! Int == big.count
        }
        XCTAssertEqual(bigBlobs.count, 1, "one copy of the capture for 3 cases x 2 runs")
        for c in try fx.store.cases() { XCTAssertTrue(c.evidence.contains { $0.name == "capture-white.png" && $0.size == Int64(big.count) }) }
        XCTAssertEqual(try fx.store.checkIntegrity(), [])
    }

    func testIntegrityCheckFindsAMissingEvidenceFile() throws {
        let fx = try Fixture(dir: dir)
        let png = try fx.file("annotated.png", "picture")
        try fx.ingest([deadModule], evidence: [png])
        let sha = try fx.store.cases()[0].evidence.first { $0.name == "annotated.png" }!.sha256
        try FileManager.default.removeItem(at: fx.store.evidence.url(for: sha))
        XCTAssertEqual(try fx.store.checkIntegrity().count, 1)
    }

    func testUnreadableEvidenceIsRefusedBeforeAnythingIsWritten() throws {
        let fx = try Fixture(dir: dir)
        XCTAssertThrowsError(try fx.ingest([deadModule], evidence: [dir.appendingPathComponent("nope.png")])) {
            XCTAssertEqual($0 as? EvidenceError, .unreadable(path: self.dir.appendingPathComponent("nope.png").path))
        }
        XCTAssertThrowsError(try fx.ingest([deadModule], evidence: [dir])) {
            XCTAssertEqual($0 as? EvidenceError, .unreadable(path: self.dir.path))
        }
        XCTAssertEqual(try fx.store.cases().count, 0)
    }

    func testGarbageCollectionRemovesOnlyOldUnreferencedEvidence() throws {
        let fx = try Fixture(dir: dir)
        let kept = try fx.file("annotated.png", "referenced")
        try fx.ingest([deadModule], evidence: [kept])
        // What a run killed before its commit leaves: a stored file no case references.
        let orphan = try fx.store.evidence.store(data: Data("orphan capture".utf8))
        let young = try fx.store.evidence.store(data: Data("a run still going on".utf8))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)],
                                              ofItemAtPath: fx.store.evidence.url(for: orphan.sha256).path)
        for c in try fx.store.cases() {
            for e in c.evidence {
                try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)],
                                                      ofItemAtPath: fx.store.evidence.url(for: e.sha256).path)
            }
        }
        let result = try fx.store.collectGarbage()
        XCTAssertEqual(result.removed, [orphan.sha256])
        XCTAssertEqual(result.bytes, Int64("orphan capture".utf8.count))
        XCTAssertFalse(fx.store.evidence.contains(orphan.sha256))
        XCTAssertTrue(fx.store.evidence.contains(young.sha256))
        XCTAssertEqual(try fx.store.checkIntegrity(), [])
        // Storing an old orphan again makes it fresh, so a collection cannot take it from a run.
        let again = try fx.store.evidence.store(data: Data("a run still going on".utf8))
        XCTAssertEqual(again, young)
    }

    func testOnlyStaleTemporaryFilesAreRemoved() throws {
        let evidence = EvidenceStore(root: dir)
        let tmp = dir.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let fresh = tmp.appendingPathComponent("in-progress"), stale = tmp.appendingPathComponent("crashed")
        try Data("a".utf8).write(to: fresh)
        try Data("b".utf8).write(to: stale)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: stale.path)
        evidence.removeLeftovers()
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh.path), "another process may still be writing it")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
    }

    // MARK: Bundles

    func makeBundle() throws -> (Fixture, URL) {
        let fx = try Fixture(dir: dir)
        let png = try fx.file("annotated.png", "annotated picture bytes")
        let log = try fx.file("ledsentry.log", "run log")
        let summary = try fx.ingest([deadModule], evidence: [png, log], bundles: true)
        return (fx, URL(fileURLWithPath: summary.cases[0].bundle!))
    }

    func testBundleHoldsFormsEvidenceAndVerifies() throws {
        let (_, bundle) = try makeBundle()
        let v = try EvidenceBundle.verify(bundle)
        XCTAssertTrue(v.intact)
        XCTAssertEqual(v.caseReference, "CASE-000001")
        let archive = try Archive(url: bundle, accessMode: .read)
        let names = Set(archive.map(\.path))
        for name in ["manifest.json", "case.json", "fault-list.txt", "return-repair-request.txt", "return-repair-request.html",
                     "evidence/annotated.png", "evidence/ledsentry.log"] {
            XCTAssertTrue(names.contains(name), name)
        }
        XCTAssertEqual(v.checked, names.count - 1)
    }

    /// Rebuilds the bundle with one entry changed, dropped or added.
    func rewrite(_ bundle: URL, change: (String, Data) -> Data?, add: (String, Data)? = nil) throws -> URL {
        let source = try Archive(url: bundle, accessMode: .read)
        let out = dir.appendingPathComponent("tampered-\(UUID().uuidString.prefix(6)).zip")
        let target = try Archive(url: out, accessMode: .create)
        for entry in source {
            var data = Data()
            _ = try source.extract(entry) { data.append($0) }
            guard let kept = change(entry.path, data) else { continue }
            try target.addEntry(with: entry.path, type: .file, uncompressedSize: Int64(kept.count)) { pos, size in
                kept.subdata(in: Int(pos)..<Int(pos) + size)
            }
        }
        if let (path, data) = add {
            try target.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count)) { pos, size in
                data.subdata(in: Int(pos)..<Int(pos) + size)
            }
        }
        return out
    }

    func testVerifyDetectsChangedMissingAndAddedFiles() throws {
        let (_, bundle) = try makeBundle()
        let changed = try rewrite(bundle) { path, data in path == "evidence/annotated.png" ? Data("retouched".utf8) : data }
        XCTAssertEqual(try EvidenceBundle.verify(changed).changed, ["evidence/annotated.png"])
        let missing = try rewrite(bundle) { path, data in path == "evidence/ledsentry.log" ? nil : data }
        XCTAssertEqual(try EvidenceBundle.verify(missing).missing, ["evidence/ledsentry.log"])
        let added = try rewrite(bundle, change: { _, data in data }, add: ("evidence/extra.png", Data("x".utf8)))
        let v = try EvidenceBundle.verify(added)
        XCTAssertEqual(v.added, ["evidence/extra.png"])
        XCTAssertFalse(v.intact)
        // One flipped byte inside the stored ZIP data is a change too.
        var raw = try Data(contentsOf: bundle)
        let marker = Data("annotated picture bytes".utf8)
        let at = raw.range(of: marker)!.lowerBound
        raw[at] ^= 0x01
        let flipped = dir.appendingPathComponent("flipped.zip")
        try raw.write(to: flipped)
        XCTAssertEqual(try EvidenceBundle.verify(flipped).changed, ["evidence/annotated.png"])
    }

    func testVerifyRefusesWhatIsNotABundle() throws {
        let notZip = dir.appendingPathComponent("x.zip")
        try Data("hello".utf8).write(to: notZip)
        XCTAssertThrowsError(try EvidenceBundle.verify(notZip)) { XCTAssertTrue("\($0)".contains("not a readable ZIP")) }
        let noManifest = try rewrite(try makeBundle().1) { path, data in path == "manifest.json" ? nil : data }
        XCTAssertThrowsError(try EvidenceBundle.verify(noManifest)) { XCTAssertTrue("\($0)".contains("no manifest.json")) }
    }
}
