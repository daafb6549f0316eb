import Foundation
import XCTest
@testable import LEDLink

/// The reference firmware's emulator (`Firmware/build/ledsentry-emu`, built by
/// `make -C Firmware`) serving a PTY, for as long as this object lives.
final class Emulator {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = repositoryRoot.appendingPathComponent("Firmware/build/ledsentry-emu")

    private let process = Process()
    /// The PTY slave it serves, as printed on its first line (`port: /dev/pts/N`).
    let port: String

    /// Starts it with `arguments` (e.g. `--link PATH`, `--fault SPEC`).
    init(_ arguments: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw EmulatorMissing(path: Self.binary.path)
        }
        let output = Pipe()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("port: ") else {
            process.terminate()
            throw EmulatorMissing(path: "\(Self.binary.path) printed '\(text)' instead of 'port: PATH'")
        }
        port = String(text.dropFirst("port: ".count))
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    struct EmulatorMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "emulator not usable: \(path) (build it with `make -C Firmware`)" }
    }
}

/// HELLO, the one request every controller answers (Docs/controller-protocol.md 4.1),
/// built here from the protocol document alone so link tests need no client code.
enum Hello {
    /// HELLO for versions 1...1 with `id`.
    static func request(id: UInt16) -> [UInt8] {
        let body: [UInt8] = [
            0x01,                        // version
            0x00,                        // flags: a request
            UInt8(id & 0xFF), UInt8(id >> 8),  // request_id, little-endian
            0x01,                        // command HELLO
            0x00,                        // status: 0 in requests
            0x02, 0x00,                  // payload length 2
            0x01, 0x01,                  // min_version 1, max_version 1
        ]
        return [0xA5, 0x5A] + body + littleEndian(crc32(body))
    }

    /// The payload of the response to `id`, after checking its frame; reads until the
    /// whole frame is in.
    static func response(id: UInt16, over link: any Transport, deadline: Deadline) throws -> [UInt8] {
        var frame: [UInt8] = []
        while frame.count < 10 || frame.count < 14 + Int(frame[8]) + Int(frame[9]) << 8 {
            frame += try link.read(maxCount: 1100, deadline: deadline)
        }
        let length = Int(frame[8]) + Int(frame[9]) << 8
        XCTAssertEqual(Array(frame[0..<2]), [0xA5, 0x5A], "start of frame")
        XCTAssertEqual(frame[3], 0x01, "flags: RESPONSE")
        XCTAssertEqual(Array(frame[4..<8]), [UInt8(id & 0xFF), UInt8(id >> 8), 0x01, 0x00], "id, HELLO, status OK")
        XCTAssertEqual(Array(frame[(10 + length)...]), littleEndian(crc32(Array(frame[2..<(10 + length)]))), "CRC")
        return Array(frame[10..<(10 + length)])
    }

    /// What the emulator answers: version 1, max payload 1024, capabilities events +
    /// per-LED status + telemetry.
    static let expectedPayload: [UInt8] = [0x01, 0x00, 0x04, 0x07, 0x00, 0x00, 0x00]

    /// CRC-32/ISO-HDLC, bit by bit: slow and obviously right.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
