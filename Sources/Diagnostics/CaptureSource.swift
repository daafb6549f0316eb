import Foundation
import FrameAnalysis

/// Where the pictures of the display come from during an inspection: files a user brings,
/// an external capture command (a DSLR through gphoto2, a webcam through ffmpeg), or a
/// simulated camera looking at the emulator.
public protocol CaptureSource: Sendable {
    /// For logs and the summary: "files in DIR", "command ...", "simulated camera".
    var name: String { get }
    /// Returns a capture file of the display showing `pattern`: one it wrote into `directory`,
    /// or the user's own file.
    func capture(_ pattern: FrameAnalysis.TestPattern, into directory: URL) async throws(CaptureError) -> URL
}

public enum CaptureError: Error, Equatable, CustomStringConvertible {
    case missingCapture(directory: String, pattern: String, looked: [String])
    case commandFailed(command: String, status: Int32, output: String)
    case commandTimedOut(command: String, seconds: Int)
    case commandWroteNothing(command: String, path: String)
    case commandNotStarted(command: String, reason: String)
    case frameUnreadable(path: String, reason: String)
    case frameMismatch(path: String, reason: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingCapture(directory, pattern, looked):
            "no capture of the \(pattern) pattern in \(directory) (looked for \(looked.joined(separator: ", ")))"
        case let .commandFailed(command, status, output):
            "the camera command failed with exit status \(status): \(command)" + (output.isEmpty ? "" : "\n  it said: \(output)")
        case let .commandTimedOut(command, seconds):
            "the camera command did not finish within \(seconds) s and was stopped: \(command)"
        case let .commandWroteNothing(command, path):
            "the camera command exited 0 but wrote no picture at \(path) (does it use {out}?): \(command)"
        case let .commandNotStarted(command, reason):
            "the camera command could not be started (\(reason)): \(command)"
        case let .frameUnreadable(path, reason):
            "cannot read the emulator's frame file \(path): \(reason) (was the emulator started with --frame-out \(path)?)"
        case let .frameMismatch(path, reason):
            "the frame file \(path) does not match the controller: \(reason)"
        case let .io(path, reason):
            "cannot write \(path): \(reason)"
        }
    }
}

/// Captures a user brought: one file per pattern in a directory, named after the pattern
/// (`white.jpg`, `red.png`, `black.pgm`, also `capture-white.jpg`).
public struct DirectoryCaptures: CaptureSource {
    public let directory: URL
    public static let extensions = ["png", "jpg", "jpeg", "pgm", "ppm", "pnm"]

    public init(directory: URL) { self.directory = directory }
    public var name: String { "captures in \(directory.path)" }

    /// The user's file itself (not a copy: messages name the file the user gave, and the
    /// warranty store keeps its own content-addressed copy).
    public func capture(_ pattern: FrameAnalysis.TestPattern, into target: URL) async throws(CaptureError) -> URL {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let wanted = Set(["", "capture-"].flatMap { prefix in Self.extensions.map { "\(prefix)\(pattern.rawValue).\($0)" } })
        guard let found = names.sorted().first(where: { wanted.contains($0.lowercased()) }) else {
            throw .missingCapture(directory: directory.path, pattern: pattern.rawValue,
                                  looked: ["\(pattern.rawValue).{\(Self.extensions.joined(separator: ","))}"])
        }
        return directory.appendingPathComponent(found)
    }
}

/// An external capture command, run by /bin/sh once per pattern with `{out}` replaced by the
/// (shell-quoted) output path and `{pattern}` by the pattern's name, e.g.
/// `gphoto2 --capture-image-and-download --force-overwrite --filename {out}` or
/// `ffmpeg -y -f v4l2 -video_size 1920x1080 -i /dev/video0 -frames:v 1 {out}`.
public struct CommandCamera: CaptureSource {
    public let template: String
    public let fileExtension: String
    public let timeout: Duration

    public init(template: String, fileExtension: String = "jpg", timeout: Duration = .seconds(60)) {
        self.template = template
        self.fileExtension = fileExtension
        self.timeout = timeout
    }
    public var name: String { "camera command \(template)" }

    public func capture(_ pattern: FrameAnalysis.TestPattern, into directory: URL) async throws(CaptureError) -> URL {
        let out = directory.appendingPathComponent("capture-\(pattern.rawValue).\(fileExtension)")
        try? FileManager.default.removeItem(at: out)
        let command = template.replacingOccurrences(of: "{out}", with: Self.shellQuoted(out.path))
            .replacingOccurrences(of: "{pattern}", with: pattern.rawValue)
        let result = try await Self.run(command, timeout: timeout)
        guard result.status == 0 else {
            throw .commandFailed(command: command, status: result.status, output: result.output)
        }
        guard let size = (try? FileManager.default.attributesOfItem(atPath: out.path))?[.size] as? Int, size > 0 else {
            throw .commandWroteNothing(command: command, path: out.path)
        }
        return out
    }

    static func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs `command` under /bin/sh, stdout and stderr together (last 500 bytes kept), with a
    /// deadline. Blocking work runs on a global queue, not on Swift's cooperative pool.
    static func run(_ command: String, timeout: Duration) async throws(CaptureError) -> (status: Int32, output: String) {
        let result: Result<(status: Int32, output: String), CaptureError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(CaptureError) in try ShellCommand.run(command, timeout: timeout) })
            }
        }
        return try result.get()
    }
}

/// A simulated camera on a tripod in front of the emulator: it reads what the wall emits
/// (the emulator's `--frame-out` PPM, one pixel per LED) and renders a photograph of it with
/// FrameAnalysis' `CaptureSimulator` (perspective, blur, vignetting, noise, clutter). The
/// pose and the optics come from `seed`, so every run with the same seed takes the same
/// pictures; the pose stays fixed between patterns, as on a tripod.
public struct SimulatedCamera: CaptureSource {
    public let frameFile: URL
    public let camera: CameraSetup
    public let wall: LEDGrid
    public let moduleSize: LEDGrid
    public let seed: UInt64

    /// - Parameters:
    ///   - wall: the wall's LED grid (from IDENTIFY).
    ///   - size: the picture size; nil chooses one (16:9, at least 1280x720, at most 6000x3375)
    ///     that gives about 4-9 camera pixels per LED.
    public init(frameFile: URL, wall: LEDGrid, moduleSize: LEDGrid, size: (width: Int, height: Int)? = nil, seed: UInt64 = 7) {
        self.frameFile = frameFile
        self.wall = wall
        self.moduleSize = moduleSize
        self.seed = seed
        let chosen = size ?? Self.pictureSize(for: wall)
        camera = CameraSetup.random(cols: wall.cols, rows: wall.rows, width: chosen.width, height: chosen.height,
                                    channels: 3, bitDepth: 8, seed: seed)
    }

    /// 10 pixels per LED across the limiting side before the pose's fill (40-90%) is applied.
    static func pictureSize(for wall: LEDGrid) -> (width: Int, height: Int) {
        let width = min(6000, max(1280, wall.cols * 10, (wall.rows * 10 * 16 + 8) / 9))
        return (width, width * 9 / 16)
    }

    public var name: String { "simulated camera (seed \(seed), \(camera.width)x\(camera.height)) of \(frameFile.path)" }

    public func capture(_ pattern: FrameAnalysis.TestPattern, into directory: URL) async throws(CaptureError) -> URL {
        let frame: Image
        do { frame = try ImageFiles.read(path: frameFile.path).0 } catch {
            throw .frameUnreadable(path: frameFile.path, reason: error.description)
        }
        guard frame.channels == 3 else { throw .frameMismatch(path: frameFile.path, reason: "it is not an RGB picture") }
        guard frame.width == wall.cols && frame.height == wall.rows else {
            throw .frameMismatch(path: frameFile.path, reason: "it is \(frame.width)x\(frame.height) LEDs, the controller reports \(wall)")
        }
        let picture = render(frame: frame)
        let out = directory.appendingPathComponent("capture-\(pattern.rawValue).png")
        do { try ImageFiles.write(picture, to: out.path) } catch {
            throw .io(path: out.path, reason: error.description)
        }
        return out
    }

    /// The display as the simulator's ground truth: each LED's emitted light per channel from
    /// the frame, times a seeded ±5% LED-to-LED spread. Rendering it "as white" reproduces the
    /// frame's colours whatever pattern the wall shows (the black frame included: only stuck
    /// LEDs emit).
    func render(frame: Image) -> Image {
        var display = SimulatedDisplay(cols: frame.width, rows: frame.height,
                                       moduleWidth: moduleSize.cols, moduleHeight: moduleSize.rows)
        var rng = SeededRandom(seed: seed ^ 0x00D1_5B1A)
        let scale = 1 / Float(frame.maxValue)
        for y in 0..<frame.height {
            for x in 0..<frame.width {
                let i = y * frame.width + x
                display.faultLevels[i] = SIMD3(Float(frame.sample(x: x, y: y, channel: 0)),
                                               Float(frame.sample(x: x, y: y, channel: 1)),
                                               Float(frame.sample(x: x, y: y, channel: 2))) * scale
                display.uniformity[i] = Float.random(in: 0.95...1.05, using: &rng)
            }
        }
        return CaptureSimulator(display: display, camera: camera).render(.white)
    }
}
