import Foundation
import XCTest
@testable import LEDLink

/// A virtual null-modem made by socat (two linked PTYs, as people make for testing serial
/// software): `openPort` must pick termios for both ends and pass bytes between them.
final class SocatPortTests: XCTestCase {
    func testSocatNullModemWorksThroughOpenPort() throws {
        guard let socat = ["/usr/bin/socat", "/bin/socat"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("socat is not installed (apt-get install socat)")
        }
        let base = NSTemporaryDirectory() + "ledsentry-socat-\(getpid())"
        let (left, right) = (base + "-a", base + "-b")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: socat)
        process.arguments = ["pty,raw,echo=0,link=\(left)", "pty,raw,echo=0,link=\(right)"]
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while !(FileManager.default.fileExists(atPath: left) && FileManager.default.fileExists(atPath: right)) {
            guard ContinuousClock.now < deadline else { return XCTFail("socat made no ports") }
            usleep(10_000)
        }
        guard case .termios(let reason) = try serialBackend(for: left) else { return XCTFail("expected termios") }
        XCTAssertTrue(reason.hasPrefix("it is a link to the pseudo-terminal /dev/pts/"), reason)

        let host = try openPort(left)
        let device = try openPort(right)
        defer { host.close(); device.close() }
        let frame = Hello.request(id: 9)
        try host.write(frame, deadline: .after(milliseconds: 2000))
        var got: [UInt8] = []
        while got.count < frame.count {
            got += try device.read(maxCount: 64, deadline: .after(milliseconds: 2000))
        }
        XCTAssertEqual(got, frame)
    }
}
