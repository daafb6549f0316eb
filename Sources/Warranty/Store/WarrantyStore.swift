import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The case store: one SQLite file (WAL) owned through a GRDB `DatabasePool`, plus the
/// content-addressed evidence directory beside it.
///
/// Opening never changes a file that is not ours: a file that is not SQLite, or an SQLite
/// database of another application, or one written by a newer LEDSentry, is refused with a
/// `StoreError` before any write.
public final class WarrantyStore: Sendable {
    public let path: URL
    public let evidence: EvidenceStore
    /// Hooks whose outbox rows are written in the same transaction as the change they report.
    public let hooks: [Hook]
    let pool: DatabasePool

    /// `PRAGMA application_id` of an LEDSentry warranty database ("LEDW").
    static let applicationID: Int32 = 0x4C45_4457

    /// Opens (creating if absent) the store at `path`; evidence lives in `<name>-evidence/`.
    public init(path: URL, hooks: [Hook] = []) throws {
        self.path = path
        self.hooks = hooks
        let base = path.deletingPathExtension().lastPathComponent
        evidence = EvidenceStore(root: path.deletingLastPathComponent().appendingPathComponent(base + "-evidence"))
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.checkHeader(path)

        var config = Configuration()
        config.busyMode = .timeout(15)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            // FULL: a committed case survives power loss, not only a process crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        // Processes opening the same new store at once would race to create it: the check,
        // the switch to WAL and the migrations run under an exclusive lock on `<db>.lock`.
        let lock = try OpenLock(path: path.path + ".lock")
        defer { lock.release() }
        // Look before touching: opening a pool switches the file to WAL, which would already
        // change a database that is not ours.
        try guarded(path.path) { try Self.checkOwnership(path) }
        do {
            pool = try DatabasePool(path: path.path, configuration: config)
        } catch {
            throw StoreError(error, path: path.path)
        }
        try guarded(path.path) { try Self.migrator.migrate(self.pool) }
        evidence.removeLeftovers()
    }

    /// A non-empty file must start with the SQLite header; anything else is not ours to touch.
    static func checkHeader(_ path: URL) throws {
        guard let handle = FileHandle(forReadingAtPath: path.path) else { return }  // absent: new store
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty { return }
        if header != Data("SQLite format 3\0".utf8) {
            throw StoreError.notADatabase(path: path.path)
        }
    }

    /// Refuses an SQLite file that belongs to another application or a newer schema, reading
    /// it through a read-only connection.
    static func checkOwnership(_ path: URL) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int) ?? 0
        guard size > 0 else { return }  // new store
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(15)  // another process may be writing or recovering the WAL
        let queue = try DatabaseQueue(path: path.path, configuration: config)
        defer { try? queue.close() }
        try queue.read { db in
            let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
            if appID != applicationID && !(appID == 0 && tables == 0) {
                throw StoreError.foreignDatabase(path: path.path)
            }
            if try migrator.hasBeenSuperseded(db) {
                throw StoreError.newerSchema(path: path.path)
            }
        }
    }

    /// Migrations are named and never edited once shipped; add `v2`, `v3`... below.
    static let migrator: DatabaseMigrator = {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: """
                CREATE TABLE product (
                    serial TEXT PRIMARY KEY NOT NULL,
                    json TEXT NOT NULL,
                    updatedAt DATETIME NOT NULL);
                CREATE TABLE warrantyCase (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    fingerprint TEXT NOT NULL UNIQUE,
                    productSerial TEXT NOT NULL REFERENCES product(serial),
                    kind TEXT NOT NULL,
                    location TEXT NOT NULL,
                    locationJSON TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    scopeJSON TEXT NOT NULL,
                    missingJSON TEXT NOT NULL,
                    faultClass TEXT NOT NULL,
                    faultClassJSON TEXT NOT NULL,
                    serviceType TEXT NOT NULL,
                    serviceJSON TEXT NOT NULL,
                    measurementsJSON TEXT NOT NULL,
                    state TEXT NOT NULL,
                    rmaNumber TEXT UNIQUE,
                    deliveryAddress TEXT,
                    openedAt DATETIME NOT NULL,
                    updatedAt DATETIME NOT NULL,
                    lastSeenAt DATETIME NOT NULL,
                    absentSince DATETIME,
                    occurrences INTEGER NOT NULL DEFAULT 1);
                CREATE INDEX warrantyCase_product ON warrantyCase(productSerial);
                CREATE TABLE caseFinding (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    caseId INTEGER NOT NULL REFERENCES warrantyCase(id),
                    runId TEXT NOT NULL,
                    recordedAt DATETIME NOT NULL,
                    json TEXT NOT NULL);
                CREATE INDEX caseFinding_case ON caseFinding(caseId);
                CREATE TABLE evidenceBlob (
                    sha256 TEXT PRIMARY KEY NOT NULL,
                    size INTEGER NOT NULL,
                    storedAt DATETIME NOT NULL);
                CREATE TABLE caseEvidence (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    caseId INTEGER NOT NULL REFERENCES warrantyCase(id),
                    sha256 TEXT NOT NULL REFERENCES evidenceBlob(sha256),
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    runId TEXT NOT NULL,
                    addedAt DATETIME NOT NULL,
                    UNIQUE(caseId, sha256, name));
                CREATE TABLE caseHistory (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    caseId INTEGER NOT NULL REFERENCES warrantyCase(id),
                    at DATETIME NOT NULL,
                    actor TEXT NOT NULL,
                    event TEXT NOT NULL,
                    fromState TEXT,
                    toState TEXT,
                    note TEXT NOT NULL);
                CREATE INDEX caseHistory_case ON caseHistory(caseId);
                CREATE TABLE inspectionRun (
                    id TEXT PRIMARY KEY NOT NULL,
                    productSerial TEXT NOT NULL REFERENCES product(serial),
                    recordedAt DATETIME NOT NULL,
                    actor TEXT NOT NULL,
                    summaryJSON TEXT NOT NULL);
                CREATE TABLE rmaSequence (
                    year INTEGER PRIMARY KEY NOT NULL,
                    last INTEGER NOT NULL);
                CREATE TABLE rmaNumber (
                    number TEXT PRIMARY KEY NOT NULL,
                    caseId INTEGER NOT NULL REFERENCES warrantyCase(id),
                    issuedAt DATETIME NOT NULL);
                CREATE TABLE hookOutbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    eventId TEXT NOT NULL,
                    hook TEXT NOT NULL,
                    event TEXT NOT NULL,
                    caseId INTEGER,
                    payload BLOB NOT NULL,
                    createdAt DATETIME NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    nextAttemptAt DATETIME NOT NULL,
                    deliveredAt DATETIME,
                    claimedUntil DATETIME,
                    lastError TEXT,
                    UNIQUE(eventId, hook));
                CREATE INDEX hookOutbox_pending ON hookOutbox(hook, deliveredAt, seq);
                """)
        }
        return m
    }()

    /// Runs a write transaction that takes the write lock at once (BEGIN IMMEDIATE), so two
    /// processes recording the same fault serialize instead of both inserting.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try guarded(path.path) {
            try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try guarded(path.path) { try pool.read(body) }
    }
}

/// An exclusive advisory lock (flock) held while a store is opened and migrated.
struct OpenLock {
    private let fd: Int32

    init(path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError.sqlite(path: path, detail: "cannot open lock file: \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StoreError.sqlite(path: path, detail: "cannot lock: \(reason)")
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// Store failures, one meaning each. The CLI maps every one to exit code 5.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case notADatabase(path: String)
    case foreignDatabase(path: String)
    case newerSchema(path: String)
    case corrupt(path: String, detail: String)
    case sqlite(path: String, detail: String)
    case caseNotFound(Int64)
    case illegalTransition(case: Int64, from: CaseState, to: CaseState, reason: String)

    init(_ error: any Error, path: String) {
        if let e = error as? StoreError { self = e; return }
        if let db = error as? DatabaseError {
            switch db.resultCode {
            case .SQLITE_NOTADB: self = .notADatabase(path: path)
            case .SQLITE_CORRUPT: self = .corrupt(path: path, detail: db.message ?? "\(db)")
            default: self = .sqlite(path: path, detail: db.message ?? "\(db)")
            }
            return
        }
        self = .sqlite(path: path, detail: String(describing: error))
    }

    public var description: String {
        switch self {
        case let .notADatabase(path):
            "\(path) is not an SQLite database (corrupt or another kind of file); it was left untouched. "
                + "Restore it from a backup or pass another --db path."
        case let .foreignDatabase(path):
            "\(path) is an SQLite database of another application, not an LEDSentry warranty store; it was left untouched."
        case let .newerSchema(path):
            "\(path) was written by a newer LEDSentry; upgrade ledsentry to use it."
        case let .corrupt(path, detail):
            "the warranty store \(path) is corrupt (\(detail)); restore it from a backup."
        case let .sqlite(path, detail): "warranty store \(path): \(detail)"
        case let .caseNotFound(id): "no case \(WarrantyCase.reference(for: id)) (id \(id)) in the store"
        case let .illegalTransition(id, from, to, reason):
            "\(WarrantyCase.reference(for: id)) cannot move from \(from.rawValue) to \(to.rawValue): \(reason)"
        }
    }
}

/// Maps GRDB errors to `StoreError`, leaving domain errors as they are.
func guarded<T>(_ path: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as DatabaseError {
        throw StoreError(error, path: path)
    }
}

// JSON columns.
let storeEncoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    e.dateEncodingStrategy = .iso8601
    return e
}()
let storeDecoder: JSONDecoder = {
    let d = JSONDecoder()
    d.dateDecodingStrategy = .iso8601
    return d
}()

func jsonText<T: Encodable>(_ value: T) throws -> String {
    String(decoding: try storeEncoder.encode(value), as: UTF8.self)
}

func fromJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try storeDecoder.decode(type, from: Data(text.utf8))
}
