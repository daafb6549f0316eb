#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import LEDLink

final class SessionTests: XCTestCase {
    private var sessionPath: String!

    override func setUp() {
        sessionPath = NSTemporaryDirectory() + "ledlink-session-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt"
    }

    override func tearDown() {
        unlink(sessionPath)
    }

    /// The host side of a short conversation, run the same way live and in replay:
    /// what the host saw, errors included, in order.
    private func converse(over link: any Transport, device: PseudoTerminal?) -> [String] {
        var seen: [String] = []
        func note(_ body: () throws -> [UInt8]) {
            do { seen.append("bytes " + hexString(try body())) } catch { seen.append("error \(error)") }
        }
        let hello: [UInt8] = [0xA5, 0x5A, 0x01, 0x00, 0x01, 0x00]
        let status: [UInt8] = [0xA5, 0x5A, 0x01, 0x00, 0x02, 0x00]
        // 1: a request written in two pieces, answered in two pieces.
        note { try link.write(Array(hello[..<2]), deadline: .after(milliseconds: 500)); return [] }
        note { try link.write(Array(hello[2...]), deadline: .after(milliseconds: 500)); return [] }
        if let device {
            XCTAssertEqual(device.receive(count: hello.count), hello)
            device.send([0xA5, 0x5A, 0x01, 0x01])
        }
        note { try link.read(maxCount: 64, deadline: .after(milliseconds: 500)) }
        device?.send([0x01, 0x00, 0x77])
        note { try link.read(maxCount: 64, deadline: .after(milliseconds: 500)) }
        // 2: the device stays silent: a timeout, then a retry after discarding input.
        note { try link.write(status, deadline: .after(milliseconds: 500)); return [] }
        if let device { XCTAssertEqual(device.receive(count: status.count), status) }
        note { try link.read(maxCount: 64, deadline: .after(milliseconds: 100)) }
        note { try link.discardInput(); return [] }
        // 3: the same request again now gets an answer, then the device is unplugged.
        note { try link.write(status, deadline: .after(milliseconds: 500)); return [] }
        if let device {
            XCTAssertEqual(device.receive(count: status.count), status)
            device.send([0xA5, 0x5A, 0x01, 0x01, 0x02, 0x00, 0x00])
        }
        note { try link.read(maxCount: 64, deadline: .after(milliseconds: 500)) }
        device?.unplug()
        note { try link.read(maxCount: 64, deadline: .after(milliseconds: 2000)) }
        return seen
    }

    func testReplayGivesWhatTheRecordingSaw() throws {
        let pty = try PseudoTerminal()
        let recorder = try RecordingTransport(wrapping: try TermiosTransport(path: pty.devicePath),
                                              sessionPath: sessionPath)
        let live = converse(over: recorder, device: pty)
        recorder.close()
        XCTAssertEqual(live.last, "error \(LinkError.disconnected(port: pty.devicePath))")
        XCTAssertTrue(live.contains("error \(LinkError.timedOut(port: pty.devicePath, operation: "read"))"))

        let replay = try ReplayTransport(sessionPath: sessionPath)
        let replayed = converse(over: replay, device: nil)
        // Same bytes and same kinds of failure; only the port name in the messages differs.
        XCTAssertEqual(replayed, live.map { $0.replacingOccurrences(of: pty.devicePath, with: replay.portName) })
    }

    func testSessionFileHasTimesAndDirectionMarkers() throws {
        let pty = try PseudoTerminal()
        let recorder = try RecordingTransport(wrapping: try TermiosTransport(path: pty.devicePath),
                                              sessionPath: sessionPath)
        try recorder.write([0xA5, 0x5A], deadline: .after(milliseconds: 500))
        pty.send([0x5A, 0xA5, 0x00])
        _ = try recorder.read(maxCount: 3, deadline: .after(milliseconds: 500))
        recorder.close()
        let lines = try String(contentsOfFile: sessionPath, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines[0], "# ledsentry link session v1")
        XCTAssertEqual(lines[1], "# port: \(pty.devicePath)")
        XCTAssertNotNil(lines[2].wholeMatch(of: /# started: 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ/), String(lines[2]))
        XCTAssertNotNil(lines[3].wholeMatch(of: /\d+\.\d{6} > a5 5a/), String(lines[3]))
        XCTAssertNotNil(lines[4].wholeMatch(of: /\d+\.\d{6} < 5a a5 00/), String(lines[4]))
    }

    func testReplayRejectsARequestItNeverSaw() throws {
        let session = """
            # ledsentry link session v1
            # port: /dev/ttyUSB0
            0.000000 > a5 5a 01
            0.001000 < a5 5a 81
            """
        let replay = try ReplayTransport(sessionText: session, name: "fixture")
        XCTAssertLinkError(.unsupported("replay of /dev/ttyUSB0 from fixture: the recorded session has no "
                                        + "(more) answers to the request a5 5a 02")) {
            try replay.write([0xA5, 0x5A, 0x02], deadline: .after(milliseconds: 10))
        }
        // The recorded request still plays once, and only once.
        try replay.write([0xA5, 0x5A, 0x01], deadline: .after(milliseconds: 10))
        XCTAssertEqual(try replay.read(maxCount: 2, deadline: .after(milliseconds: 10)), [0xA5, 0x5A])
        XCTAssertEqual(try replay.read(maxCount: 2, deadline: .after(milliseconds: 10)), [0x81])
        XCTAssertLinkError(.unsupported("replay of /dev/ttyUSB0 from fixture: the recorded session has no "
                                        + "(more) answers to the request a5 5a 01")) {
            try replay.write([0xA5, 0x5A, 0x01], deadline: .after(milliseconds: 10))
        }
    }

    func testMalformedSessionNamesTheLine() {
        let cases: [(String, String)] = [
            ("0.1 > a5 zz", "fixture line 1: 'zz' is not a hex byte"),
            ("0.1 ? a5", "fixture line 1: unknown direction marker '?'"),
            ("# c\nsoon > a5", "fixture line 2: expected '<seconds> <marker> ...'"),
            ("0.1 >", "fixture line 1: no bytes after the direction marker"),
            ("0.1 ! melted", "fixture line 1: unknown event 'melted'"),
            // Found by Tests/Fuzz/SessionRecordFuzz.swift: times that cannot be written back.
            ("inf > a5", "fixture line 1: expected '<seconds> <marker> ...'"),
            ("66666666666666666666 > a5", "fixture line 1: expected '<seconds> <marker> ...'"),
        ]
        for (text, message) in cases {
            XCTAssertLinkError(.invalidArgument(message)) { try ReplayTransport(sessionText: text, name: "fixture") }
        }
        XCTAssertLinkError(.notFound(port: "/nonexistent/session.txt")) {
            try ReplayTransport(sessionPath: "/nonexistent/session.txt")
        }
    }

    func testRecordsRoundTripThroughText() throws {
        let records: [SessionRecord] = [
            .init(seconds: 0, kind: .sent([0xA5, 0x5A, 0x01])),
            .init(seconds: 1.5, kind: .received([0x00, 0xFF])),
            .init(seconds: 12.000001, kind: .timedOut(operation: "read")),
            .init(seconds: 13, kind: .discarded),
            .init(seconds: 14.25, kind: .disconnected),
        ]
        let lines = records.map { $0.serialize() }
        XCTAssertEqual(lines, ["0.000000 > a5 5a 01", "1.500000 < 00 ff", "12.000001 ! timeout read",
                               "13.000000 ! discard", "14.250000 ! disconnected"])
        XCTAssertEqual(try lines.map { try SessionRecord(parsing: $0[...]) }, records)
    }

    /// A session recorded from the emulator (Tests/Fixtures/ledsentry-emu), kept as a golden
    /// file: the format must stay readable, and requests match by bytes, not by order.
    func testCommittedEmulatorSessionReplays() throws {
        let fixture = Emulator.repositoryRoot.appendingPathComponent("Tests/Fixtures/ledsentry-emu/hello-twice.session")
        let replay = try ReplayTransport(sessionPath: fixture.path)
        XCTAssertEqual(replay.portName, "replay of /dev/pts/2 from \(fixture.path)")
        for id: UInt16 in [2, 1] {
            try replay.write(Hello.request(id: id), deadline: .after(milliseconds: 10))
            XCTAssertEqual(try Hello.response(id: id, over: replay, deadline: .after(milliseconds: 10)),
                           Hello.expectedPayload)
        }
        XCTAssertLinkError(.timedOut(port: replay.portName, operation: "read")) {
            try replay.read(maxCount: 64, deadline: .after(milliseconds: 10))
        }
        XCTAssertLinkError(.unsupported("\(replay.portName): the recorded session has no (more) answers to the "
                                        + "request \(hexString(Hello.request(id: 3)))")) {
            try replay.write(Hello.request(id: 3), deadline: .after(milliseconds: 10))
        }
    }
}
