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

    var description: String {
        "seed \(seed) \(cols)x\(rows) on \(width)x\(height) \(channels == 1 ? "gray" : "rgb")\(bitDepth) \(pattern)\(healthy ? " healthy" : "")\(jpegQuality.map { " jpeg q\($0)" } ?? "")"
    }

    func display() -> SimulatedDisplay {
        var mix = healthy ? SimulatedDisplay.FaultMix.healthy : SimulatedDisplay.FaultMix()
        if pattern.planeIndex != nil && !healthy { mix.channelFaults = 8 }
        return SimulatedDisplay.random(cols: cols, rows: rows, seed: seed, mix: mix)
    }

    func camera() -> CameraSetup {
        var camera = CameraSetup.random(cols: cols, rows: rows, width: width, height: height,
                                        channels: channels, bitDepth: bitDepth, seed: seed)
        camera.srgb = jpegQuality != nil
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
            var white = simulator.render(.white)
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

let accuracyScenarios: [Scenario] = [
    Scenario(seed: 1, cols: 64, rows: 32, width: 1920, height: 1080, channels: 1, bitDepth: 8, pattern: .white),
    Scenario(seed: 2, cols: 128, rows: 64, width: 1920, height: 1080, channels: 1, bitDepth: 16, pattern: .white),
    Scenario(seed: 3, cols: 192, rows: 108, width: 1920, height: 1080, channels: 3, bitDepth: 8, pattern: .white),
]

@Test(arguments: accuracyScenarios)
func simulatedCaptureAccuracy(_ scenario: Scenario) throws {
    let outcome = try scenario.run()
    print("\(scenario): precision \(outcome.precision) recall \(outcome.recall) \(describeMisses(outcome.found, outcome.truth))")
    #expect(outcome.precision >= 0.99, "\(scenario): \(describeMisses(outcome.found, outcome.truth))")
    #expect(outcome.recall >= 0.99, "\(scenario): \(describeMisses(outcome.found, outcome.truth))")
}
