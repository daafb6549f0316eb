import Testing
@testable import FrameAnalysis

/// One seeded simulated capture: display, camera and pattern.
struct Scenario: CustomStringConvertible, Sendable {
    let seed: UInt64
    let cols: Int, rows: Int
    let width: Int, height: Int
    let channels: Int, bitDepth: Int
    let pattern: TestPattern
    var healthy = false
    var jpegQuality: Int? = nil
    var label = ""
    /// Pushes the camera or display past the generator's usual ranges.
    var adjustCamera: @Sendable (inout CameraSetup) -> Void = { _ in }
    var adjustDisplay: @Sendable (inout SimulatedDisplay) -> Void = { _ in }
    /// Moves the camera between the white reference and the black capture (pixels).
    var referenceShift = 0.0

    var description: String {
        "\(label.isEmpty ? "" : label + ": ")seed \(seed) \(cols)x\(rows) on \(width)x\(height) \(channels == 1 ? "gray" : "rgb")\(bitDepth) \(pattern)\(healthy ? " healthy" : "")\(jpegQuality.map { " jpeg q\($0)" } ?? "")"
    }

    func display() -> SimulatedDisplay {
        var mix = healthy ? SimulatedDisplay.FaultMix.healthy : SimulatedDisplay.FaultMix()
        if pattern.planeIndex != nil && !healthy { mix.channelFaults = 8 }
        var display = SimulatedDisplay.random(cols: cols, rows: rows, seed: seed, mix: mix)
        adjustDisplay(&display)
        return display
    }

    func camera() -> CameraSetup {
        var camera = CameraSetup.random(cols: cols, rows: rows, width: width, height: height,
                                        channels: channels, bitDepth: bitDepth, seed: seed)
        camera.srgb = jpegQuality != nil
        adjustCamera(&camera)
        return camera
    }

    /// Renders, optionally round-trips through JPEG, analyses; returns the score.
    func run() throws -> (precision: Double, recall: Double, found: DefectMap, truth: DefectMap) {
        let simulator = CaptureSimulator(display: display(), camera: camera())
        var capture = simulator.render(pattern)
        var reference: (image: Image, response: Response)? = nil
        let response: Response = jpegQuality == nil ? .linear : .srgb
        if let quality = jpegQuality {
            capture = try ImageFiles.decodeJPEG(try ImageFiles.jpegData(capture, quality: quality))
        }
        if pattern == .black {
            var shifted = simulator.camera
            shifted.shiftX += referenceShift
            shifted.shiftY -= referenceShift / 2
            var white = CaptureSimulator(display: simulator.display, camera: shifted).render(.white)
            if let quality = jpegQuality { white = try ImageFiles.decodeJPEG(try ImageFiles.jpegData(white, quality: quality)) }
            reference = (white, response)
        }
        let result = try FrameAnalyzer.analyze(capture, options: AnalysisOptions(grid: LEDGrid(cols: cols, rows: rows), pattern: pattern),
                                               response: response, reference: reference)
        let truth = simulator.display.truth(for: pattern)
        let score = result.defects.score(against: truth)
        return (score.precision, score.recall, result.defects, truth)
    }
}

func describeMisses(_ found: DefectMap, _ truth: DefectMap) -> String {
    let f = Set(found.defects), t = Set(truth.defects)
    let extra = f.subtracting(t).sorted().prefix(8).map { "\($0.x),\($0.y) \($0.kind) \($0.channel)" }
    let missed = t.subtracting(f).sorted().prefix(8).map { "\($0.x),\($0.y) \($0.kind) \($0.channel)" }
    return "found \(f.count) truth \(t.count); false: \(extra); missed: \(missed)"
}

/// Seeded captures across grids 64x32...384x216, cameras 1920x1080...6000x4000, 8/16 bit,
/// gray/RGB, every pattern. Big frames are few so the suite stays within minutes on 2 cores.
let accuracyScenarios: [Scenario] = [
    Scenario(seed: 1, cols: 64, rows: 32, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 2, cols: 128, rows: 64, width: 1920, height: 1080, channels: 1, bitDepth: 16, pattern: .white),
    Scenario(seed: 3, cols: 192, rows: 108, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .white),
    Scenario(seed: 4, cols: 96, rows: 48, width: 1920, height: 1080, channels: 3, bitDepth: 16, pattern: .red),
    Scenario(seed: 5, cols: 128, rows: 64, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .green),
    Scenario(seed: 6, cols: 160, rows: 90, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .blue),
    Scenario(seed: 7, cols: 256, rows: 144, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 8, cols: 384, rows: 216, width: 1920, height: 1080, channels: 1, bitDepth: 16, pattern: .white),
    Scenario(seed: 9, cols: 64, rows: 32, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .black),
    Scenario(seed: 10, cols: 192, rows: 108, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .black),
    Scenario(seed: 11, cols: 128, rows: 64, width: 2560, height: 1440, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 12, cols: 320, rows: 180, width: 2560, height: 1440, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 13, cols: 256, rows: 144, width: 2560, height: 1440, channels: 3, bitDepth: 16, pattern: .white),
    Scenario(seed: 14, cols: 192, rows: 108, width: 2560, height: 1440, channels: 3, bitDepth: 8, pattern: .red),
    Scenario(seed: 15, cols: 96, rows: 48, width: 2560, height: 1440, channels: 1, bitDepth: 16, pattern: .black),
    Scenario(seed: 16, cols: 384, rows: 216, width: 3840, height: 2160, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 17, cols: 160, rows: 90, width: 3840, height: 2160, channels: 3, bitDepth: 8, pattern: .green),
    Scenario(seed: 18, cols: 320, rows: 180, width: 3840, height: 2160, channels: 1, bitDepth: 16, pattern: .white),
    Scenario(seed: 19, cols: 384, rows: 216, width: 6000, height: 4000, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 20, cols: 256, rows: 144, width: 6000, height: 4000, channels: 3, bitDepth: 8, pattern: .blue),
    Scenario(seed: 21, cols: 64, rows: 32, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .white),
    Scenario(seed: 22, cols: 96, rows: 48, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 23, cols: 192, rows: 108, width: 1920, height: 1080, channels: 1, bitDepth: 16, pattern: .white),
    Scenario(seed: 24, cols: 256, rows: 144, width: 2560, height: 1440, channels: 1, bitDepth: 8, pattern: .black),
    Scenario(seed: 25, cols: 128, rows: 64, width: 1920, height: 1080, channels: 3, bitDepth: 16, pattern: .blue),
    Scenario(seed: 26, cols: 160, rows: 90, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 27, cols: 320, rows: 180, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 28, cols: 384, rows: 216, width: 2560, height: 1440, channels: 3, bitDepth: 8, pattern: .white),
    Scenario(seed: 29, cols: 128, rows: 64, width: 2560, height: 1440, channels: 3, bitDepth: 8, pattern: .green),
    Scenario(seed: 30, cols: 192, rows: 108, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 31, cols: 96, rows: 48, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .white),
    Scenario(seed: 32, cols: 256, rows: 144, width: 3840, height: 2160, channels: 3, bitDepth: 8, pattern: .black),
]

let healthyScenarios: [Scenario] = [
    Scenario(seed: 101, cols: 64, rows: 32, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white, healthy: true),
    Scenario(seed: 102, cols: 192, rows: 108, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .white, healthy: true),
    Scenario(seed: 103, cols: 384, rows: 216, width: 3840, height: 2160, channels: 1, bitDepth: 16, pattern: .white, healthy: true),
    Scenario(seed: 104, cols: 128, rows: 64, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .red, healthy: true),
    Scenario(seed: 105, cols: 160, rows: 90, width: 2560, height: 1440, channels: 1, bitDepth: 8, pattern: .black, healthy: true),
]

let jpegScenarios: [Scenario] = [
    Scenario(seed: 201, cols: 64, rows: 32, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .white, jpegQuality: 85),
    Scenario(seed: 202, cols: 128, rows: 64, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .white, jpegQuality: 85),
    Scenario(seed: 203, cols: 192, rows: 108, width: 2560, height: 1440, channels: 3, bitDepth: 8, pattern: .white, jpegQuality: 85),
    Scenario(seed: 204, cols: 96, rows: 48, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .green, jpegQuality: 85),
    Scenario(seed: 205, cols: 128, rows: 64, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .black, jpegQuality: 85),
]

@Test(arguments: accuracyScenarios)
func simulatedCaptureAccuracy(_ scenario: Scenario) throws {
    let outcome = try scenario.run()
    print("\(scenario): precision \(outcome.precision) recall \(outcome.recall) \(describeMisses(outcome.found, outcome.truth))")
    #expect(outcome.precision >= 0.99, "\(scenario): \(describeMisses(outcome.found, outcome.truth))")
    #expect(outcome.recall >= 0.99, "\(scenario): \(describeMisses(outcome.found, outcome.truth))")
}

@Test(arguments: healthyScenarios)
func healthyDisplayHasNoDefects(_ scenario: Scenario) throws {
    let outcome = try scenario.run()
    #expect(outcome.truth.isEmpty)
    #expect(outcome.found.isEmpty, "\(scenario): \(describeMisses(outcome.found, outcome.truth))")
}

@Test(arguments: jpegScenarios)
func jpegQuality85Accuracy(_ scenario: Scenario) throws {
    let outcome = try scenario.run()
    print("\(scenario): precision \(outcome.precision) recall \(outcome.recall)")
    #expect(outcome.precision >= 0.98, "\(scenario): \(describeMisses(outcome.found, outcome.truth))")
    #expect(outcome.recall >= 0.98, "\(scenario): \(describeMisses(outcome.found, outcome.truth))")
}

/// Margins beyond the generator's usual draw: moire-prone pitches near 3 px, extreme fill,
/// wide module seams (non-uniform gaps), maximum tilt and rotation, heavy blur, vignetting and
/// noise, dead edge segments and corner modules, a camera that moved between reference and
/// black capture.
let robustnessScenarios: [Scenario] = [
    Scenario(seed: 301, cols: 384, rows: 216, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white,
             label: "3.0 px per LED", adjustCamera: { $0.fill = 0.67; $0.tiltXDegrees = 4; $0.tiltYDegrees = -6 }),
    Scenario(seed: 302, cols: 320, rows: 180, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .white,
             label: "3.2 px per LED rgb", adjustCamera: { $0.fill = 0.55 }),
    Scenario(seed: 303, cols: 128, rows: 64, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white,
             label: "95% fill", adjustCamera: { $0.fill = 0.95; $0.offsetX = 0; $0.offsetY = 0 }),
    Scenario(seed: 304, cols: 192, rows: 108, width: 2560, height: 1440, channels: 1, bitDepth: 16, pattern: .white,
             label: "wide seams", adjustCamera: { $0.seamGap = 0.35 }),
    Scenario(seed: 305, cols: 192, rows: 108, width: 2560, height: 1440, channels: 1, bitDepth: 8, pattern: .white,
             label: "max tilt and rotation", adjustCamera: { $0.tiltXDegrees = 15; $0.tiltYDegrees = -15; $0.rotationDegrees = 5 }),
    Scenario(seed: 306, cols: 128, rows: 64, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white,
             label: "blur, vignetting, noise", adjustCamera: { $0.blurPixels = 2.0; $0.vignetting = 0.5; $0.exposure = 0.3; $0.shotNoise = 0.02; $0.readNoise = 0.008 }),
    Scenario(seed: 307, cols: 128, rows: 64, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white,
             label: "strong barrel", adjustCamera: { $0.barrel = -0.06 }),
    Scenario(seed: 308, cols: 128, rows: 64, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white,
             label: "dead edge segments and corner module", adjustDisplay: { d in
                 for i in 0..<d.faultLevels.count { d.faultLevels[i] = [1, 1, 1] }
                 for (x, y) in [(5, 5), (40, 20), (100, 50), (70, 9)] { d.faultLevels[y * 128 + x] = [0.5, 0.5, 0.5] }
                 for x in 0..<100 { d.faultLevels[x] = [0, 0, 0] }  // most of the top row
                 for y in 10..<64 { d.faultLevels[y * 128 + 127] = [0.05, 0.05, 0.05] }  // most of the right column
                 for y in 32..<64 { for x in 0..<64 { d.faultLevels[y * 128 + x] = [0, 0, 0] } }  // bottom-left module
             }),
    Scenario(seed: 309, cols: 160, rows: 90, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .black,
             label: "camera moved 0.6 px before black", referenceShift: 0.6),
    Scenario(seed: 314, cols: 128, rows: 64, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .black,
             label: "camera moved ~0.4 LED before black", adjustCamera: { $0.fill = 0.5 }, referenceShift: 3.0),
    Scenario(seed: 311, cols: 192, rows: 108, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white,
             label: "square emitters, hard edges", adjustCamera: { $0.squareEmitter = 0.6; $0.blurPixels = 0.5 }),
    Scenario(seed: 312, cols: 320, rows: 180, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .green,
             label: "square emitters at 3.4 px", adjustCamera: { $0.squareEmitter = 0.5; $0.fill = 0.6 }),
    Scenario(seed: 313, cols: 128, rows: 64, width: 2560, height: 1440, channels: 1, bitDepth: 8, pattern: .black,
             label: "square emitters, black", adjustCamera: { $0.squareEmitter = 0.7 }),
    Scenario(seed: 310, cols: 96, rows: 48, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .red,
             label: "big LEDs, 40% fill", adjustCamera: { $0.fill = 0.4; $0.spotSigma = 0.3 }),
]

@Test(arguments: robustnessScenarios)
func robustnessMargins(_ scenario: Scenario) throws {
    let outcome = try scenario.run()
    print("\(scenario): precision \(outcome.precision) recall \(outcome.recall) \(describeMisses(outcome.found, outcome.truth))")
    #expect(outcome.precision >= 0.99, "\(scenario): \(describeMisses(outcome.found, outcome.truth))")
    #expect(outcome.recall >= 0.99, "\(scenario): \(describeMisses(outcome.found, outcome.truth))")
}

/// A completely dark edge row cannot be told from a row beyond the opposite edge: the analysis
/// must say so instead of silently reporting positions that may be a row off.
@Test(arguments: [UInt64(400), 401, 402])
func fullyDarkEdgeRowIsFlagged(_ seed: UInt64) throws {
    let scenario = Scenario(seed: seed, cols: 128, rows: 64, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white,
                            label: "dead top row", adjustDisplay: { d in for x in 0..<128 { d.faultLevels[x] = [0, 0, 0] } })
    let simulator = CaptureSimulator(display: scenario.display(), camera: scenario.camera())
    let result = try FrameAnalyzer.analyze(simulator.render(.white), options: AnalysisOptions(grid: LEDGrid(cols: 128, rows: 64), pattern: .white),
                                           response: .linear)
    #expect(result.registration.warnings.contains { $0.contains("ambiguous row") }, "\(result.registration.warnings)")
}

/// The warranty room renders an emulated display from its fault list: what goes in must come
/// out of the analysis.
@Test func displayFromDefectListRoundTrips() throws {
    let wanted = DefectMap(cols: 128, rows: 64, defects: [
        LEDDefect(x: 0, y: 0, kind: .dead), LEDDefect(x: 5, y: 9, kind: .dim), LEDDefect(x: 127, y: 63, kind: .dead),
        LEDDefect(x: 60, y: 30, kind: .dead), LEDDefect(x: 61, y: 30, kind: .dead), LEDDefect(x: 100, y: 20, kind: .stuck),
    ] + (10..<40).map { LEDDefect(x: $0, y: 50, kind: .dead) })
    let display = SimulatedDisplay(defects: wanted)
    let simulator = CaptureSimulator(display: display, camera: CameraSetup.random(cols: 128, rows: 64, width: 1920, height: 1080,
                                                                                  channels: 1, bitDepth: 8, seed: 77))
    let grid = LEDGrid(cols: 128, rows: 64)
    let white = try FrameAnalyzer.analyze(simulator.render(.white), options: AnalysisOptions(grid: grid, pattern: .white), response: .linear)
    #expect(Set(white.defects.defects) == Set(wanted.defects.filter { $0.kind != .stuck }))
    #expect(white.groups.lines.contains { $0.orientation == .row && $0.index == 50 && $0.from == 10 && $0.to == 39 })
    let black = try FrameAnalyzer.analyze(simulator.render(.black), options: AnalysisOptions(grid: grid, pattern: .black),
                                          response: .linear, reference: (simulator.render(.white), .linear))
    #expect(black.defects.defects == [LEDDefect(x: 100, y: 20, kind: .stuck)])
}
