import Foundation
import ZIPFoundation

/// Tampers with a bundle the way a person would: adds a file to the ZIP in place.
enum ZIPTamper {
    static func appendEntry(to bundle: URL, name: String) throws -> URL {
        let copy = bundle.deletingLastPathComponent().appendingPathComponent("tampered-" + bundle.lastPathComponent)
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: bundle, to: copy)
        let archive = try Archive(url: copy, accessMode: .update)
        let data = Data("not part of the evidence".utf8)
        try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count)) { pos, size in
            data.subdata(in: Int(pos)..<Int(pos) + size)
        }
        return copy
    }
}
