import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a shell command line (an external camera) with a deadline.
///
/// posix_spawn rather than Foundation's Process: Process hands the child the blocked signal
/// mask of the spawning thread (so SIGTERM never arrives), and cannot stop grandchildren. Here
/// the child gets a clean signal mask and its own process group, and on timeout the whole
/// group (sh, gphoto2, ffmpeg, ...) is killed.
enum ShellCommand {
    static func run(_ command: String, timeout: Duration) throws(CaptureError) -> (status: Int32, output: String) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .commandNotStarted(command: command, reason: "pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        defer { close(fds[0]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { (text: String) in strdup(text) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        close(fds[1])
        guard spawned == 0 else { throw .commandNotStarted(command: command, reason: String(cString: strerror(spawned))) }

        let deadline = ContinuousClock.now + timeout
        var output: [UInt8] = []
        var status: Int32?
        var exitedAt: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 4096)
        var open = true
        while true {
            if open {
                var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 50) > 0 {
                    let n = read(fds[0], &buffer, buffer.count)
                    if n > 0 {
                        output += buffer[0..<n]
                        if output.count > 4096 { output.removeFirst(output.count - 500) }
                    } else if n == 0 || errno != EINTR {
                        open = false
                    }
                }
            } else {
                usleep(20_000)
            }
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
                    exitedAt = .now
                }
            }
            // Done when the shell exited and the pipe closed, or 200 ms after the exit (a
            // background grandchild may keep the pipe open).
            if let exitedAt, !open || ContinuousClock.now - exitedAt > .milliseconds(200) { break }
            if ContinuousClock.now > deadline {
                kill(-pid, SIGKILL)
                if status == nil { var raw: Int32 = 0; waitpid(pid, &raw, 0) }
                throw .commandTimedOut(command: command, seconds: Int(timeout.components.seconds))
            }
        }
        let text = String(decoding: output.suffix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return (status!, text)
    }
}
