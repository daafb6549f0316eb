import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why the reference emulator could not be started.
public enum EmulatorError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(searched: [String])
    case failedToStart(executable: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let searched):
            return "the emulator ledsentry-emu was not found (looked at \(searched.joined(separator: ", "))); "
                + "build it with `make -C Firmware` or set LEDSENTRY_EMULATOR to its path"
        case .failedToStart(let executable, let reason):
            return "\(executable) did not start: \(reason)"
        }
    }
}

/// The reference firmware's emulator (`Firmware/build/ledsentry-emu`) as a child process
/// serving protocol v1 on a pseudo-terminal: the controller family's "demo driver", used
/// by `ledsentry emulate`, `ledsentry demo`, the tests and the benchmark.
public final class EmulatorProcess: @unchecked Sendable {
    /// The PTY the emulator serves (from its `port: /dev/pts/N` line).
    public let portPath: String
    public let executable: String
    public let processIdentifier: pid_t
    private let exitStatus = Mutex<Int32?>(nil)
    /// Kept open while the emulator runs, so a later line on its stdout cannot SIGPIPE it.
    private let outputDescriptor: Int32

    /// Finds the emulator: `$LEDSENTRY_EMULATOR`, else `Firmware/build/ledsentry-emu` in
    /// the first of `searchFrom` (or their parents) that has one.
    public static func locate(searchFrom directories: [String]) throws(EmulatorError) -> String {
        if let path = ProcessInfo.processInfo.environment["LEDSENTRY_EMULATOR"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else { throw .notFound(searched: [path]) }
            return path
        }
        var searched: [String] = []
        for start in directories {
            var directory = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                let candidate = directory.appendingPathComponent("Firmware/build/ledsentry-emu").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                searched.append(candidate)
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        throw .notFound(searched: Array(searched.prefix(4)) + (searched.count > 4 ? ["..."] : []))
    }

    /// Starts the emulator with `arguments` (its own flags: --cabinets, --fault, ...) and
    /// waits for it to print its port. Its stderr goes to ours unless `quiet`.
    ///
    /// posix_spawn rather than Foundation's Process: Process hands the child the blocked
    /// signal mask of the thread that spawned it, so SIGTERM never reached the emulator.
    public init(executable: String, arguments: [String] = [], quiet: Bool = false,
                startupTimeout: Duration = .seconds(5)) throws(EmulatorError) {
        self.executable = executable
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0,
              fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC) == 0 else {
            throw .failedToStart(executable: executable, reason: "pipe: \(String(cString: strerror(errno)))")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        if quiet { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        Glibc.close(pipeEnds[1])
        guard spawned == 0 else {
            throw .failedToStart(executable: executable, reason: String(cString: strerror(spawned)))
        }
        processIdentifier = pid
        outputDescriptor = pipeEnds[0]
        guard let line = Self.firstLine(of: pipeEnds[0], within: startupTimeout), line.hasPrefix("port: ") else {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            Glibc.close(pipeEnds[0])
            throw .failedToStart(executable: executable, reason:
                "it printed no `port:` line within \(startupTimeout) (see its message above)")
        }
        portPath = String(line.dropFirst("port: ".count))
    }

    deinit {
        stop()
        Glibc.close(outputDescriptor)
    }

    public var isRunning: Bool {
        exitStatus.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(processIdentifier, &raw, WNOHANG) == processIdentifier else { return true }
            status = raw
            return false
        }
    }

    /// Stops the emulator (SIGTERM, then SIGKILL after 2 s) and waits for it.
    public func stop() {
        guard isRunning else { return }
        Glibc.kill(processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(2)
        while isRunning && ContinuousClock.now < deadline { usleep(5_000) }
        kill()
    }

    /// Kills the emulator at once (SIGKILL), as pulling the cable would.
    public func kill() {
        guard isRunning else { return }
        Glibc.kill(processIdentifier, SIGKILL)
        waitUntilExit()
    }

    /// Blocks until the process exits; returns its exit status (128 + signal if killed).
    /// Polls, so that `stop()` from another thread is never blocked behind it.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        while isRunning { usleep(10_000) }
        let raw = exitStatus.withLock { $0 } ?? 0
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    /// Reads one line from `fd` with a deadline (poll, then byte by byte: it is one short line).
    private static func firstLine(of fd: Int32, within timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        while ContinuousClock.now < deadline {
            var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - .now
            let milliseconds = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            guard poll(&pollfd, 1, milliseconds) > 0 else { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }
}
