import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Evidence files stored once by SHA-256 under `root/sha256/ab/abcdef...`.
///
/// A file is copied to `root/tmp/`, hashed while copying, fsynced, then renamed to its digest
/// name and the directory fsynced: once `store` returns, the file survives a crash, so the
/// database transaction that references it may commit. A crash before that leaves at most a
/// temporary file, never a half-written evidence file under its digest name.
public struct EvidenceStore: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    public struct Stored: Sendable, Hashable {
        public var sha256: String
        public var size: Int64
    }

    public func url(for sha256: String) -> URL {
        root.appendingPathComponent("sha256").appendingPathComponent(String(sha256.prefix(2)))
            .appendingPathComponent(sha256)
    }

    public func contains(_ sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: url(for: sha256).path)
    }

    /// Copies a file into the store (or finds it there already) and returns its digest.
    public func store(fileAt source: URL) throws -> Stored {
        guard let input = FileHandle(forReadingAtPath: source.path) else {
            throw EvidenceError.unreadable(path: source.path)
        }
        defer { try? input.close() }
        return try store { write in
            while true {
                let chunk = try input.read(upToCount: 1 << 20) ?? Data()
                if chunk.isEmpty { break }
                try write(chunk)
            }
        }
    }

    public func store(data: Data) throws -> Stored {
        try store { write in try write(data) }
    }

    private func store(_ produce: ((Data) throws -> Void) throws -> Void) throws -> Stored {
        let tmpDir = root.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: tmpDir, withIntermediateDirectories: true)
        let tmp = tmpDir.appendingPathComponent(UUID().uuidString)
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil),
              let output = FileHandle(forWritingAtPath: tmp.path) else {
            throw EvidenceError.unwritable(path: tmp.path)
        }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            try produce { chunk in
                hasher.update(data: chunk)
                size += Int64(chunk.count)
                try output.write(contentsOf: chunk)
            }
            try output.synchronize()
            try output.close()
        } catch {
            try? output.close()
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let final = url(for: digest)
        if FileManager.default.fileExists(atPath: final.path) {
            try? FileManager.default.removeItem(at: tmp)  // stored once already
            // Fresh again: `collectGarbage` spares files touched in the last hour, so a run
            // about to reference this file cannot lose it.
            try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: final.path)
        } else {
            let dir = final.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            guard rename(tmp.path, final.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: tmp)
                throw EvidenceError.unwritable(path: "\(final.path): \(reason)")
            }
            Self.syncDirectory(dir)
        }
        return Stored(sha256: digest, size: size)
    }

    /// Makes a rename durable: the new directory entry is on disk once this returns.
    static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Removes temporary files a crashed run left behind. Only old ones: a file written in
    /// the last hour may belong to a run still going on in another process.
    public func removeLeftovers(olderThan age: TimeInterval = 3600, now: Date = Date()) {
        let tmpDir = root.appendingPathComponent("tmp")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmpDir.path)) ?? [] {
            let url = tmpDir.appendingPathComponent(name)
            let modified = (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? now
            if now.timeIntervalSince(modified) > age { try? FileManager.default.removeItem(at: url) }
        }
    }

    /// Every stored digest with its file's modification date.
    func storedFiles() -> [(sha256: String, modified: Date)] {
        let base = root.appendingPathComponent("sha256")
        var result: [(String, Date)] = []
        for prefix in (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? [] {
            let dir = base.appendingPathComponent(prefix)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
                let modified = (try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path)[.modificationDate] as? Date) ?? Date()
                result.append((name, modified))
            }
        }
        return result
    }

    /// Re-hashes a stored file; false when it is missing or changed.
    public func verify(_ sha256: String) -> Bool {
        guard let input = FileHandle(forReadingAtPath: url(for: sha256).path) else { return false }
        defer { try? input.close() }
        var hasher = SHA256()
        while let chunk = try? input.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined() == sha256
    }
}

public enum EvidenceError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String)
    case unwritable(path: String)
    case missing(sha256: String, name: String)

    public var description: String {
        switch self {
        case let .unreadable(path): "cannot read evidence file \(path)"
        case let .unwritable(path): "cannot write evidence file \(path)"
        case let .missing(sha, name): "evidence \(name) (sha256 \(sha.prefix(12))) is missing from the evidence store"
        }
    }
}
