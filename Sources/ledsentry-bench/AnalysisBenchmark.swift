import Dispatch
import FrameAnalysis
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Frame analysis: single core ms per capture at three camera sizes, excluding and including
/// decoding, against one plain read of the same buffer (the memory-bandwidth floor); peak
/// memory of read + analysis in a child process; batch throughput on all cores.
func runAnalysisBenchmark(_ arguments: [String]) throws {
    let quick = arguments.contains("--quick")
    let cases: [(width: Int, height: Int, grid: LEDGrid)] = [
        (1920, 1080, LEDGrid(cols: 192, rows: 108)),
        (3840, 2160, LEDGrid(cols: 384, rows: 216)),
        (6000, 4000, LEDGrid(cols: 384, rows: 216)),
    ]
    let directory = NSTemporaryDirectory() + "ledsentry-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    print("frame analysis, single core, release build, 8-bit gray captures (ms per capture; best of N)")
    print("capture     LEDs      read floor  analyse  PGM+an.  PNG+an.  JPEG+an.  x floor  fixed rig  x floor  peak MB (x capture)")
    for c in cases {
        let display = SimulatedDisplay.random(cols: c.grid.cols, rows: c.grid.rows, seed: 99)
        var camera = CameraSetup.random(cols: c.grid.cols, rows: c.grid.rows, width: c.width, height: c.height,
                                        channels: 1, bitDepth: 8, seed: 99)
        camera.tiltXDegrees = 8
        camera.rotationDegrees = 2
        let image = CaptureSimulator(display: display, camera: camera).render(.white)
        let options = AnalysisOptions(grid: c.grid, pattern: .white)
        let repeats = quick ? 2 : (c.width > 4000 ? 4 : 8)
        // The floor reads the buffer from memory, not cache: a bigger buffer is read between runs.
        let floor = best(of: repeats * 4, before: { _ = plainRead(cacheFlusher) }) { _ = plainRead(image) }
        var found = 0
        let analyse = try best(of: repeats) {
            found = try FrameAnalyzer.analyze(image, options: options, response: .linear).defects.defects.count
        }
        // A fixed rig: the white reference is registered once, each capture is only measured.
        let rig = try WhiteReference(image: image, response: .linear, grid: c.grid)
        let measured = try best(of: repeats) {
            _ = try FrameAnalyzer.analyze(image, options: options, response: .linear, reference: rig)
        }
        var withDecode: [Double] = []
        for format in ["pgm", "png", "jpg"] {
            let path = "\(directory)/capture-\(c.width).\(format)"
            try ImageFiles.write(image, to: path, jpegQuality: 92)
            withDecode.append(try best(of: repeats) {
                let (decoded, fileFormat) = try ImageFiles.read(path: path)
                _ = try FrameAnalyzer.analyze(decoded, options: options, response: fileFormat == .jpeg ? .srgb : .linear)
            })
        }
        let peak = try peakMemory(path: "\(directory)/capture-\(c.width).pgm", grid: c.grid)
        let megabytes = Double(image.byteCount) / 1_000_000
        print(String(format: "%4dx%-5d  %3dx%-4d  %8.2f  %8.1f  %7.1f  %7.1f  %8.1f  %7.0f  %9.1f  %7.0f  %6.1f (%.2f)  [%d defects]",
                     c.width, c.height, c.grid.cols, c.grid.rows, floor * 1000, analyse * 1000,
                     withDecode[0] * 1000, withDecode[1] * 1000, withDecode[2] * 1000, analyse / floor,
                     measured * 1000, measured / floor, peak, peak / megabytes, found))
    }
    try batchThroughput(quick: quick)
}

/// Minimum wall time of `body` over `count` runs, in seconds.
func best(of count: Int, before: () -> Void = {}, _ body: () throws -> Void) rethrows -> Double {
    var fastest = Double.infinity
    for _ in 0..<count {
        before()
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return fastest
}

/// One pass over every byte, eight at a time: the memory-bandwidth floor.
@inline(never)
func plainRead(_ image: Image) -> UInt64 {
    guard case .uint8(let samples) = image.samples else { return 0 }
    return samples.withUnsafeBytes { raw in
        var total: UInt64 = 0
        var index = 0
        while index &+ 32 <= raw.count {
            let chunk = raw.loadUnaligned(fromByteOffset: index, as: SIMD4<UInt64>.self)
            total &+= chunk.wrappedSum()
            index &+= 32
        }
        while index < raw.count { total &+= UInt64(raw[index]); index &+= 1 }
        return total
    }
}

/// 256 MB, more than any cache.
let cacheFlusher = Image(width: 16384, height: 16384, channels: 1, bitDepth: 8)

/// Resident-memory growth of reading and analysing one capture, in MB, measured in a child
/// process (`ledsentry-bench analysis-peak FILE COLSxROWS`) so earlier work does not count.
func peakMemory(path: String, grid: LEDGrid) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["analysis-peak", path, grid.description]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
}

/// Child side of `peakMemory`: prints the peak RSS growth in MB.
let hiddenAnalysisCommands: [String: @Sendable ([String]) throws -> Void] = [
    "analysis-peak": { arguments in
        let baseline = residentMegabytes()
        let (image, _) = try ImageFiles.read(path: arguments[0])
        _ = try FrameAnalyzer.analyze(image, options: AnalysisOptions(grid: LEDGrid(parsing: arguments[1])!, pattern: .white),
                                      response: .linear)
        print(String(format: "%.1f", peakResidentMegabytes() - baseline))
    },
    // Renders a simulated capture: OUT COLSxROWS WIDTHxHEIGHT SEED PATTERN [rgb] [lownoise].
    "analysis-simulate": { arguments in
        let grid = LEDGrid(parsing: arguments[1])!, size = LEDGrid(parsing: arguments[2])!
        let seed = UInt64(arguments[3])!
        let rgb = arguments.contains("rgb")
        var camera = CameraSetup.random(cols: grid.cols, rows: grid.rows, width: size.cols, height: size.rows,
                                        channels: rgb ? 3 : 1, bitDepth: 8, seed: seed)
        if arguments.contains("lownoise") { camera.readNoise = 0.001; camera.shotNoise = 0.002 }
        let display = SimulatedDisplay.random(cols: grid.cols, rows: grid.rows, seed: seed)
        try ImageFiles.write(CaptureSimulator(display: display, camera: camera).render(TestPattern(rawValue: arguments[4])!),
                             to: arguments[0])
    },
    // For optimisation work: FNV-1a digest of every output bit (relative levels, defects,
    // homography, lens) of analysing FILE with COLSxROWS, so a speed change can be shown to
    // leave results bit-identical.
    "analysis-digest": { arguments in
        let (image, _) = try ImageFiles.read(path: arguments[0])
        let result = try FrameAnalyzer.analyze(image, options: AnalysisOptions(grid: LEDGrid(parsing: arguments[1])!,
                                                                               pattern: .white), response: .linear)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: UInt64) { hash = (hash ^ value) &* 0x100_0000_01b3 }
        result.relativeLevels.forEach { mix(UInt64($0.bitPattern)) }
        result.registration.gridToCamera.m.forEach { mix($0.bitPattern) }
        mix(result.registration.lens.k.bitPattern)
        if let u = result.uniformity {
            [u.ledStandardDeviation, u.p5, u.p95, u.fieldMinOverMax].forEach { mix($0.bitPattern) }
        }
        result.defects.defects.forEach { mix(UInt64($0.x)); mix(UInt64($0.y)); $0.kind.rawValue.utf8.forEach { mix(UInt64($0)) } }
        print(String(format: "%016llx  %d defects", hash, result.defects.defects.count))
    },
    // For profilers: analyse one file N times.
    "analysis-repeat": { arguments in
        let (image, _) = try ImageFiles.read(path: arguments[0])
        for _ in 0..<(Int(arguments[2]) ?? 10) {
            _ = try FrameAnalyzer.analyze(image, options: AnalysisOptions(grid: LEDGrid(parsing: arguments[1])!, pattern: .white),
                                          response: .linear)
        }
    },
]

func residentMegabytes() -> Double { procStatus("VmRSS:") }

/// The resident high-water mark of this process image (VmHWM; unlike ru_maxrss it does not
/// carry over the parent's peak across fork and exec).
func peakResidentMegabytes() -> Double { procStatus("VmHWM:") }

func procStatus(_ key: String) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(key) {
        return line.split(separator: " ").dropFirst().first.flatMap { Double($0) }.map { $0 / 1000 } ?? 0
    }
    return 0
}

/// Captures per second for a batch, one core versus all cores.
func batchThroughput(quick: Bool) throws {
    let grid = LEDGrid(cols: 192, rows: 108)
    let count = quick ? 4 : 8
    let images = (0..<count).map { seed in
        CaptureSimulator(display: SimulatedDisplay.random(cols: grid.cols, rows: grid.rows, seed: UInt64(seed)),
                         camera: CameraSetup.random(cols: grid.cols, rows: grid.rows, width: 1920, height: 1080,
                                                    channels: 1, bitDepth: 8, seed: UInt64(seed))).render(.white)
    }
    let options = AnalysisOptions(grid: grid, pattern: .white)
    let serial = try best(of: 2) { for image in images { _ = try FrameAnalyzer.analyze(image, options: options, response: .linear) } }
    let parallel = best(of: 2) {
        DispatchQueue.concurrentPerform(iterations: images.count) { index in
            _ = try? FrameAnalyzer.analyze(images[index], options: options, response: .linear)
        }
    }
    print(String(format: "batch of %d 1920x1080 captures: %.1f captures/s on 1 core, %.1f on %d cores (x%.2f)",
                 count, Double(count) / serial, Double(count) / parallel, ProcessInfo.processInfo.activeProcessorCount,
                 serial / parallel))
}
