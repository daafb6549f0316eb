import Crypto
import Diagnostics
import Foundation
import ZIPFoundation

/// One ZIP per case: the case file, the forms the policy asks for, every evidence file, and
/// `manifest.json` with the SHA-256 of each of them, so anyone can check nothing was changed,
/// removed or slipped in (`ledsentry cases verify BUNDLE`).
public enum EvidenceBundle {
    public static let manifestName = "manifest.json"
    public static let format = "ledsentry-evidence-bundle/1"

    public struct Manifest: Codable, Sendable {
        public struct File: Codable, Sendable, Hashable {
            public var path: String
            public var sha256: String
            public var size: Int64
            public var role: String
        }
        public var format: String
        public var caseReference: String
        public var productSerial: String
        public var createdAt: Date
        public var files: [File]
    }

    public struct Written: Sendable {
        public var url: URL
        public var manifestSHA256: String
        public var files: Int
    }

    /// Writes the bundle to a temporary name and renames it into place, so a reader never
    /// sees half a bundle.
    public static func write(case c: WarrantyCase, store: WarrantyStore, to url: URL, now: Date = Date()) throws -> Written {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let archive: Archive
        do { archive = try Archive(url: tmp, accessMode: .create) } catch {
            throw BundleError.unwritable(path: url.path, reason: "\(error)")
        }
        var files: [Manifest.File] = []

        func add(_ path: String, data: Data, role: String) throws {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
            files.append(.init(path: path, sha256: sha256Hex(data), size: Int64(data.count), role: role))
        }

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try add("case.json", data: try encoder.encode(c), role: "case")
        try add("fault-list.txt", data: Data(CaseDocuments.faultList(c).utf8), role: EvidenceReference.Role.faultList.rawValue)
        for document in CaseDocuments.documents(for: c, evidenceURL: { "evidence/" + bundleName($0, in: c) }) {
            try add(document.name, data: Data(document.text.utf8), role: "form")
        }

        var seen = Set<String>()
        for item in c.evidence {
            let path = "evidence/" + bundleName(item, in: c)
            guard seen.insert(path).inserted else { continue }
            let source = store.evidence.url(for: item.sha256)
            guard FileManager.default.fileExists(atPath: source.path) else {
                throw EvidenceError.missing(sha256: item.sha256, name: item.name)
            }
            // Deflate only text; captures and recordings are stored as they are (deflating a
            // 50 MB capture costs seconds and saves nothing on already-compressed data).
            let text = ["json", "txt", "log", "csv", "yaml", "yml", "html", "xml"]
                .contains((item.name as NSString).pathExtension.lowercased())
            try archive.addEntry(with: path, fileURL: source, compressionMethod: text ? .deflate : .none)
            // The digest is the content address, checked again here so a damaged store is caught.
            files.append(.init(path: path, sha256: item.sha256, size: item.size, role: item.role.rawValue))
        }

        let manifest = Manifest(format: format, caseReference: c.reference, productSerial: c.product.serial,
                                createdAt: now, files: files)
        let manifestData = try encoder.encode(manifest)
        try archive.addEntry(with: manifestName, type: .file, uncompressedSize: Int64(manifestData.count),
                             compressionMethod: .deflate) { position, size in
            manifestData.subdata(in: Int(position)..<Int(position) + size)
        }
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(at: tmp, to: url)
        return Written(url: url, manifestSHA256: sha256Hex(manifestData), files: files.count)
    }

    /// The file name inside the bundle: the original name, prefixed by the digest when two
    /// different files of the case share a name (e.g. `capture.png` from two runs).
    static func bundleName(_ item: CaseEvidence, in c: WarrantyCase) -> String {
        let clash = c.evidence.contains { $0.name == item.name && $0.sha256 != item.sha256 }
        let safe = item.name.replacingOccurrences(of: "/", with: "_")
        return clash ? "\(item.sha256.prefix(8))-\(safe)" : safe
    }

    public struct Verification: Codable, Sendable {
        public var bundle: String
        public var caseReference: String
        public var checked: Int
        public var changed: [String]
        public var missing: [String]
        public var added: [String]
        public var intact: Bool { changed.isEmpty && missing.isEmpty && added.isEmpty }
    }

    /// Re-hashes every entry against the manifest.
    public static func verify(_ url: URL) throws -> Verification {
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .read) } catch {
            throw BundleError.notABundle(path: url.path, reason: "not a readable ZIP file (\(error))")
        }
        guard let manifestEntry = archive[manifestName] else {
            throw BundleError.notABundle(path: url.path, reason: "it has no \(manifestName)")
        }
        let manifest: Manifest
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            manifest = try decoder.decode(Manifest.self, from: try contents(of: manifestEntry, in: archive))
        } catch {
            throw BundleError.notABundle(path: url.path, reason: "\(manifestName) is not a valid manifest (\(error))")
        }
        var entries: [String: Entry] = [:]
        for entry in archive where entry.type == .file && entry.path != manifestName {
            entries[entry.path] = entry
        }
        var result = Verification(bundle: url.path, caseReference: manifest.caseReference, checked: 0,
                                  changed: [], missing: [], added: [])
        for file in manifest.files {
            guard let entry = entries.removeValue(forKey: file.path) else { result.missing.append(file.path); continue }
            result.checked += 1
            var hasher = SHA256()
            var size: Int64 = 0
            do {
                _ = try archive.extract(entry, skipCRC32: true) { chunk in
                    hasher.update(data: chunk)
                    size += Int64(chunk.count)
                }
            } catch {
                result.changed.append(file.path)
                continue
            }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            if digest != file.sha256 || size != file.size { result.changed.append(file.path) }
        }
        result.added = entries.keys.sorted()
        return result
    }

    static func contents(of entry: Entry, in archive: Archive) throws -> Data {
        var data = Data()
        _ = try archive.extract(entry, skipCRC32: true) { data.append($0) }
        return data
    }

    static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

public enum BundleError: Error, Equatable, CustomStringConvertible {
    case notABundle(path: String, reason: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notABundle(path, reason): "\(path) is not an LEDSentry evidence bundle: \(reason)"
        case let .unwritable(path, reason): "cannot write bundle \(path): \(reason)"
        }
    }
}
