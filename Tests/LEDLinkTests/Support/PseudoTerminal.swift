#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import LEDLink

/// A pseudo-terminal pair for tests: the code under test opens `devicePath` (the slave,
/// as it would a serial adapter) and the test plays the device on the master side.
final class PseudoTerminal: @unchecked Sendable {
    private(set) var masterFD: Int32
    let devicePath: String

    init() throws {
        // Swift's Glibc module hides the XSI pty calls; take them from libc directly.
        let libc = PTYCalls.shared
        let fd = libc.posixOpenpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
        var name = [CChar](repeating: 0, count: 128)
        guard fd >= 0, libc.grantpt(fd) == 0, libc.unlockpt(fd) == 0,
              libc.ptsnameR(fd, &name, name.count) == 0 else {
            throw XCTSkip("no pseudo-terminals here: \(errnoMessage(errno))")
        }
        masterFD = fd
        devicePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Raw on the master side too, so test bytes are not translated.
        var attributes = termios()
        tcgetattr(fd, &attributes)
        cfmakeraw(&attributes)
        tcsetattr(fd, TCSANOW, &attributes)
    }

    /// Writes as the device would.
    func send(_ bytes: [UInt8]) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let count = rest.withUnsafeBytes { Glibc.write(masterFD, $0.baseAddress, $0.count) }
            precondition(count > 0, "master write failed: \(errnoMessage(errno))")
            rest = rest.dropFirst(count)
        }
    }

    /// Reads exactly `count` bytes the host sent, waiting at most `seconds`.
    func receive(count: Int, within seconds: Double = 5) -> [UInt8] {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while bytes.count < count, !deadline.hasPassed {
            var entry = pollfd(fd: masterFD, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, deadline.remainingMilliseconds) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: count - bytes.count)
            let got = chunk.withUnsafeMutableBytes { Glibc.read(masterFD, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            bytes += chunk[..<got]
        }
        return bytes
    }

    /// The device goes away: the host side sees a hang-up.
    func unplug() {
        if masterFD >= 0 { Glibc.close(masterFD) }
        masterFD = -1
    }

    deinit { unplug() }
}

/// posix_openpt(3) and friends, looked up once.
struct PTYCalls: @unchecked Sendable {
    let posixOpenpt: @convention(c) (Int32) -> Int32
    let grantpt: @convention(c) (Int32) -> Int32
    let unlockpt: @convention(c) (Int32) -> Int32
    let ptsnameR: @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32

    static let shared: PTYCalls = {
        func symbol<F>(_ name: String, as type: F.Type) -> F {
            guard let address = dlsym(dlopen(nil, RTLD_NOW), name) else { fatalError("libc has no \(name)") }
            return unsafeBitCast(address, to: type)
        }
        return PTYCalls(
            posixOpenpt: symbol("posix_openpt", as: (@convention(c) (Int32) -> Int32).self),
            grantpt: symbol("grantpt", as: (@convention(c) (Int32) -> Int32).self),
            unlockpt: symbol("unlockpt", as: (@convention(c) (Int32) -> Int32).self),
            ptsnameR: symbol("ptsname_r", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32).self))
    }()
}

/// Runs `body` on its own thread after `delay`; for events that must happen mid-call.
func after(milliseconds delay: Int, _ body: @escaping @Sendable () -> Void) {
    Thread.detachNewThread {
        usleep(useconds_t(delay * 1000))
        body()
    }
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertLinkError<T>(_ expected: LinkError, file: StaticString = #filePath, line: UInt = #line,
                           _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected \(expected), got success", file: file, line: line)
    } catch let error as LinkError {
        XCTAssertEqual(error, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), got \(error)", file: file, line: line)
    }
}

/// Every byte value, including those a cooked tty would eat (XON/XOFF, CR, ^C), goes
/// host to device and back unchanged through `link`.
func assertEveryBytePassesBothWays(_ link: any Transport, device: PseudoTerminal,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
    let all = (0...255).map { UInt8($0) }
    try link.write(all, deadline: .after(milliseconds: 2000))
    XCTAssertEqual(device.receive(count: 256), all, "host to device", file: file, line: line)
    device.send(all.reversed())
    var got: [UInt8] = []
    while got.count < 256 {
        got += try link.read(maxCount: 256 - got.count, deadline: .after(milliseconds: 2000))
    }
    XCTAssertEqual(got, all.reversed(), "device to host", file: file, line: line)
}

/// The device goes away while a read waits on a long deadline: the read must end with
/// `.disconnected` soon after, not at its deadline, and so must a later write.
func assertUnplugMidReadIsDisconnected(_ link: any Transport, unplug: @escaping @Sendable () -> Void,
                                       file: StaticString = #filePath, line: UInt = #line) {
    after(milliseconds: 100, unplug)
    let started = ContinuousClock.now
    XCTAssertLinkError(.disconnected(port: link.portName), file: file, line: line) {
        try link.read(maxCount: 16, deadline: .after(milliseconds: 5000))
    }
    XCTAssertLessThan(started.duration(to: .now), .seconds(4),
                      "waited for the deadline instead of seeing the unplug", file: file, line: line)
    XCTAssertLinkError(.disconnected(port: link.portName), file: file, line: line) {
        try link.write([1, 2, 3], deadline: .after(milliseconds: 500))
    }
}

/// A read waiting on a long deadline (as a listener for device events does) must not hold
/// up a write from another thread: `request` goes out at once, `answer` plays the device
/// (it must make `reply` arrive), and the waiting read returns `reply`.
func assertWritesPassAWaitingRead<Link: Transport & Sendable>(
    _ link: Link, request: [UInt8], reply: [UInt8], answer: () -> Void,
    file: StaticString = #filePath, line: UInt = #line
) throws {
    let outcome = ReadOutcome()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        outcome.bytes = Result { try link.read(maxCount: 64, deadline: .after(milliseconds: 4000)) }
        done.signal()
    }
    usleep(100_000)  // the reader is now waiting
    let started = ContinuousClock.now
    try link.write(request, deadline: .after(milliseconds: 2000))
    XCTAssertLessThan(started.duration(to: .now), .seconds(1), "the write waited for the read", file: file, line: line)
    answer()
    XCTAssertEqual(done.wait(timeout: .now() + 6), .success, "reader never returned", file: file, line: line)
    XCTAssertEqual(try outcome.bytes?.get(), reply, file: file, line: line)
}

/// What a reader thread got; written before it signals, read after the wait.
private final class ReadOutcome: @unchecked Sendable {
    var bytes: Result<[UInt8], any Error>?
}
