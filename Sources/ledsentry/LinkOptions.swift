import ArgumentParser
import Foundation
import LEDControllers
import LEDLink
import Logging

/// Exit codes of the link commands (the CLI's table, LEDSentry.swift).
enum LinkExit {
    static let failureFound = ExitCode(1)
    static let usage = ExitCode(2)
    static let linkError = ExitCode(3)
    static let badInputFile = ExitCode(4)
}

/// Options every controller command shares.
struct LinkConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The controller's port: a device path (/dev/ttyUSB0, /dev/serial/by-id/..., the emulator's /dev/pts/N), usb:VID:PID[:SERIAL] for a controller on USB bulk, or a USB serial number.",
        discussion: "Defaults to $LEDSENTRY_PORT. `ledsentry ports` lists what is attached.", valueName: "path|usb:vid:pid|serial"))
    var port: String?

    @Option(help: ArgumentHelp("The longest wait for one attempt, in milliseconds (default: the protocol's 500, 2500 for module tests).",
                               discussion: "Attempts usually wait less: a few times the measured round trip, at least 20 ms, doubling after each silent attempt.",
                               valueName: "ms"))
    var timeout: Int?

    @Option(help: "Times to re-send a request after a timeout or a bad checksum.")
    var retries: Int = 3

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Option(help: ArgumentHelp("Record every byte of the link session, both directions, to this file (replayable).",
                               valueName: "file"))
    var record: String?

    @Flag(help: "Say which serial backend opened the port, and why.")
    var verbose = false

    func validate() throws {
        if let timeout, !(1...60_000).contains(timeout) {
            throw ValidationError("--timeout must be 1...60000 milliseconds, not \(timeout)")
        }
        guard (0...50).contains(retries) else { throw ValidationError("--retries must be 0...50, not \(retries)") }
        guard resolvedPort != nil else {
            throw ValidationError("no controller port: give --port PATH|SERIAL or set LEDSENTRY_PORT (see `ledsentry ports`)")
        }
    }

    var resolvedPort: String? {
        port ?? ProcessInfo.processInfo.environment["LEDSENTRY_PORT"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Opens the port (recording it if asked) and wraps it in a client.
    func connect() throws -> ControllerClient {
        try connect(to: resolvedPort ?? "")
    }

    func connect(to port: String) throws -> ControllerClient {
        var transport: any Transport
        do {
            var logger = Logger(label: "ledsentry.link")
            logger.logLevel = verbose ? .info : .warning
            transport = try openPort(port, logger: logger)
            if let record { transport = try RecordingTransport(wrapping: transport, sessionPath: record) }
        } catch {
            throw LinkFailure(message: error.description, exitCode: LinkExit.linkError)
        }
        return ControllerClient(transport: transport, retries: retries, attemptTimeout: timeout.map { .milliseconds($0) })
    }
}

/// A failure already put into words, with the exit code it maps to.
struct LinkFailure: Error, CustomStringConvertible {
    var message: String
    var exitCode: ExitCode
    var description: String { message }
}

/// Runs a command body, turning library errors into a message on stderr and the
/// documented exit code.
func runLinkCommand<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ControllerError {
        printLinkError(error.description)
        // A device that refuses a request worked; the command failed. Anything else is the link.
        throw error.status == nil ? LinkExit.linkError : LinkExit.failureFound
    } catch let error as LinkFailure {
        printLinkError(error.message)
        throw error.exitCode
    } catch let error as EmulatorError {
        printLinkError(error.description)
        throw LinkExit.linkError
    } catch let error as LinkError {
        printLinkError(error.description)
        throw LinkExit.linkError
    }
}

func printLinkError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}

/// Prints `value` as pretty JSON on stdout.
func printLinkJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Prints rows under headers, each column as wide as its widest cell.
func printLinkTable(_ headers: [String], _ rows: [[String]]) {
    let widths = headers.indices.map { column in
        ([headers[column]] + rows.map { column < $0.count ? $0[column] : "" }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { column, cell in
            column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    print(line(headers))
    for row in rows { print(line(row)) }
}

/// Progress of long reads on stderr: rewritten in place on a terminal, every 10% otherwise.
final class LinkProgress: @unchecked Sendable {
    private let label: String
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private var lastShown = -1

    init(_ label: String) { self.label = label }

    func update(_ done: Int, _ total: Int) {
        let percent = total > 0 ? done * 100 / total : 100
        lock.lock()
        defer { lock.unlock() }
        guard percent != lastShown, isTerminal || percent / 10 != lastShown / 10 || percent == 100 else { return }
        lastShown = percent
        let text = "\(label): \(percent)% (\(done) of \(total))"
        FileHandle.standardError.write(Data((isTerminal ? "\r\(text)" : "\(text)\n").utf8))
        if isTerminal && percent == 100 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
