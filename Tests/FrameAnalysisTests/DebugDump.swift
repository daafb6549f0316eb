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

