import Foundation
import Testing
@testable import FrameAnalysis

/// Writes a scenario's capture to /tmp when LEDSENTRY_DUMP is set (a development aid).
@Test func dumpCaptureWhenAsked() throws {
    guard let seedText = ProcessInfo.processInfo.environment["LEDSENTRY_DUMP"], let seed = UInt64(seedText) else { return }
    let scenario = (accuracyScenarios + robustnessScenarios).first { $0.seed == seed }!
    let simulator = CaptureSimulator(display: scenario.display(), camera: scenario.camera())
    try ImageFiles.write(simulator.render(scenario.pattern).eightBit(), to: "/tmp/dump-\(seed).png")
    print("pixels per LED \(simulator.pixelsPerLED), fill \(scenario.camera().fill)")
}

@Test func registrationErrorWhenAsked() throws {
    guard let seedText = ProcessInfo.processInfo.environment["LEDSENTRY_REG"], let seed = UInt64(seedText) else { return }
    let scenario = (accuracyScenarios + robustnessScenarios).first { $0.seed == seed }!
    let simulator = CaptureSimulator(display: scenario.display(), camera: scenario.camera())
    let image = simulator.render(.white)
    let grid = LEDGrid(cols: scenario.cols, rows: scenario.rows)
    let plane = MeasurementPlane(image: image, pattern: .white, response: .linear)
    let quad = try plane.withView({ try Registrar.findOutline($0) }, { try Registrar.findOutline($0) })
    print("outline", quad.map { "(\(Int($0.x)),\(Int($0.y)))" })
    let truthCorners = [simulator.cameraPosition(x: 0, y: 0), simulator.cameraPosition(x: grid.cols - 1, y: 0),
                        simulator.cameraPosition(x: grid.cols - 1, y: grid.rows - 1), simulator.cameraPosition(x: 0, y: grid.rows - 1)]
    print("truth corner LEDs", truthCorners.map { "(\(Int($0.x)),\(Int($0.y)))" })
    let start = Registration(grid: grid, gridToCamera: Homography.fit(from: [Point(-0.5, -0.5), Point(Double(grid.cols) - 0.5, -0.5), Point(Double(grid.cols) - 0.5, Double(grid.rows) - 0.5), Point(-0.5, Double(grid.rows) - 0.5)], to: quad)!, lens: RadialLens(k: 0, width: image.width, height: image.height))
    Registrar.debugHook = { r, text in
        let t = simulator.cameraPosition(x: grid.cols / 2, y: grid.rows / 2), p = r.cameraPosition(Double(grid.cols / 2), Double(grid.rows / 2))
        let t2 = simulator.cameraPosition(x: grid.cols - 1, y: grid.rows - 1), p2 = r.cameraPosition(Double(grid.cols - 1), Double(grid.rows - 1))
        print(text, "centre err", t.x - p.x, t.y - p.y, "corner err", t2.x - p2.x, t2.y - p2.y)
    }
    let pairs = plane.withView({ Registrar.litCentroids($0, start, xs: 51...63, ys: 69...81) }, { Registrar.litCentroids($0, start, xs: 51...63, ys: 69...81) })
    for (g, c) in pairs.prefix(200) where Int(g.y) == 75 {
        let t = simulator.cameraPosition(x: Int(g.x), y: Int(g.y)), p = start.cameraPosition(g.x, g.y)
        print("LED", g.x, g.y, "truth", t.x, t.y, "pred", p.x, p.y, "centroid", c.x, c.y)
    }
    let locked = plane.withView({ Registrar.lockLattice($0, start) }, { Registrar.lockLattice($0, start) })
    for (x, y) in [(0, 0), (grid.cols / 2, grid.rows / 2), (grid.cols - 1, grid.rows - 1)] {
        let t = simulator.cameraPosition(x: x, y: y), r = locked.cameraPosition(Double(x), Double(y))
        print("locked LED \(x),\(y): truth \(t.x),\(t.y) locked \(r.x),\(r.y)")
    }
    let registration = ProcessInfo.processInfo.environment["LEDSENTRY_LOCKED"] != nil ? locked : try FrameAnalyzer.register(image, grid: grid)
    var worst = 0.0
    for y in Swift.stride(from: 0, to: grid.rows, by: max(1, grid.rows / 8)) {
        var line = ""
        for x in Swift.stride(from: 0, to: grid.cols, by: max(1, grid.cols / 8)) {
            let t = simulator.cameraPosition(x: x, y: y), r = registration.cameraPosition(Double(x), Double(y))
            let e = ((t.x - r.x) * (t.x - r.x) + (t.y - r.y) * (t.y - r.y)).squareRoot()
            worst = max(worst, e)
            line += String(format: " %5.2f", e / simulator.pixelsPerLED)
        }
        print(line)
    }
    print("worst error in LED pitches", worst / simulator.pixelsPerLED)
}


/// A wider random sweep (development aid, LEDSENTRY_SWEEP=first-seed): prints every scenario
/// below 0.99 precision or recall, or that throws.
@Test func randomSweepWhenAsked() throws {
    guard let text = ProcessInfo.processInfo.environment["LEDSENTRY_SWEEP"], let first = UInt64(text) else { return }
    let grids = [(64, 32), (96, 48), (128, 64), (160, 90), (192, 108), (256, 144), (320, 180), (384, 216)]
    let cameras = [(1920, 1080), (2560, 1440), (3840, 2160)]
    let patterns: [TestPattern] = [.white, .white, .red, .green, .blue, .black]
    var failures = 0
    for seed in first..<(first + 40) {
        var rng = SeededRandom(seed: seed)
        let grid = grids.randomElement(using: &rng)!, camera = cameras.randomElement(using: &rng)!
        // Keep at least 3 px per LED at the largest fill.
        if Double(min(camera.0 / grid.0, camera.1 / grid.1)) * 0.9 < 3.3 { continue }
        let scenario = Scenario(seed: seed, cols: grid.0, rows: grid.1, width: camera.0, height: camera.1,
                                channels: Bool.random(using: &rng) ? 3 : 1, bitDepth: Bool.random(using: &rng) ? 16 : 8,
                                pattern: patterns.randomElement(using: &rng)!,
                                jpegQuality: Int.random(in: 0..<4, using: &rng) == 0 ? 85 : nil)
        let fixed = scenario.jpegQuality != nil && scenario.channels == 1 && scenario.bitDepth == 16
            ? Scenario(seed: seed, cols: grid.0, rows: grid.1, width: camera.0, height: camera.1, channels: 1, bitDepth: 8,
                       pattern: scenario.pattern, jpegQuality: 85) : scenario
        let colourOnGray = fixed.channels == 1 && fixed.pattern.planeIndex != nil
        do {
            let o = try fixed.run()
            let limit = fixed.jpegQuality == nil ? 0.99 : 0.98
            if o.precision < limit || o.recall < limit {
                failures += 1
                print("SWEEP FAIL \(fixed)\(colourOnGray ? " (colour on gray)" : ""): \(o.precision) \(o.recall) \(describeMisses(o.found, o.truth))")
            } else {
                print("SWEEP ok \(fixed)")
            }
        } catch {
            failures += 1
            print("SWEEP ERROR \(fixed): \(error)")
        }
    }
    print("SWEEP failures: \(failures)")
}
