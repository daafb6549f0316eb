/// What to analyse a capture for.
public struct AnalysisOptions: Sendable {
    public var grid: LEDGrid
    public var pattern: TestPattern
    /// nil: the default for the file format (sRGB for JPEG, linear otherwise).
    public var response: Response?
    /// Module size for grouping dead modules.
    public var module: LEDGrid

    public init(grid: LEDGrid, pattern: TestPattern, response: Response? = nil,
                module: LEDGrid = LEDGrid(cols: 64, rows: 32)) {
        self.grid = grid
        self.pattern = pattern
        self.response = response
        self.module = module
    }
}

/// The outcome of analysing one capture.
public struct AnalysisResult: Sendable {
    public let grid: LEDGrid
    public let pattern: TestPattern
    public let registration: Registration
    public let defects: DefectMap
    /// Per LED (row-major): lit patterns, level relative to the expected local level;
    /// black, level relative to the LED's white level.
    public let relativeLevels: [Float]
    public let groups: DefectGroups
    public let uniformity: Uniformity?
    public let faultClass: PixelFaultClass
}

/// Turns captures into defect maps. Pure computation: no files, no hardware.
public enum FrameAnalyzer {
    /// Dead below this fraction of the expected level.
    public static let deadBelow: Float = 0.3
    /// Dim below this fraction of the expected level.
    public static let dimBelow: Float = 0.7
    /// Stuck above this fraction of the white level (black pattern).
    public static let stuckAbove: Float = 0.3

    /// Locates the display and its LED lattice in a capture showing a lit pattern.
    public static func register(_ image: Image, grid: LEDGrid, pattern: TestPattern = .white,
                                response: Response = .linear) throws(AnalysisError) -> Registration {
        guard pattern != .black else { throw .referenceRequired }
        let plane = MeasurementPlane(image: image, pattern: pattern, response: response)
        return try plane.register(grid: grid)
    }

    /// Analyses `capture`. `reference` (a capture of the same scene showing white, with its
    /// response) is required for the black pattern and, when given, supplies the geometry.
    public static func analyze(_ capture: Image, options: AnalysisOptions, response: Response,
                               reference: (image: Image, response: Response)? = nil) throws(AnalysisError) -> AnalysisResult {
        var prepared: WhiteReference? = nil
        if let reference {
            guard reference.image.width == capture.width, reference.image.height == capture.height else {
                throw .referenceMismatch("reference is \(reference.image.width)x\(reference.image.height), capture is \(capture.width)x\(capture.height)")
            }
            prepared = try WhiteReference(image: reference.image, response: reference.response, grid: options.grid)
        }
        return try analyze(capture, options: options, response: response, reference: prepared)
    }

    /// Analyses `capture` with a prepared reference: a fixed rig registers its white reference
    /// once and every further capture only costs the measurement.
    public static func analyze(_ capture: Image, options: AnalysisOptions, response: Response,
                               reference: WhiteReference?) throws(AnalysisError) -> AnalysisResult {
        let grid = options.grid, pattern = options.pattern
        if let reference {
            guard reference.width == capture.width, reference.height == capture.height else {
                throw .referenceMismatch("reference is \(reference.width)x\(reference.height), capture is \(capture.width)x\(capture.height)")
            }
            guard reference.registration.grid == grid else {
                throw .referenceMismatch("reference was registered for grid \(reference.registration.grid), not \(grid)")
            }
        }
        let registration: Registration
        var relative: [Float]
        var expected: [Float]
        let plane = MeasurementPlane(image: capture, pattern: pattern, response: response)
        if pattern == .black {
            guard let reference else { throw .referenceRequired }
            // Stuck candidates first; if the camera moved a little since the reference, they
            // show by how much, and every LED is then measured at the moved positions.
            var moved = reference.registration
            for _ in 0..<2 {
                let levels = plane.measure(moved)
                let floor = LEDSampler.expectedLevels(levels, grid: grid, healthyOnly: false)
                // Not the border lines: light from a cabinet frame next to them peaks outward
                // and would read as a camera move on a display with nothing stuck.
                let candidates = (0..<grid.count).filter {
                    let x = $0 % grid.cols, y = $0 / grid.cols
                    guard x > 0, y > 0, x < grid.cols - 1, y < grid.rows - 1 else { return false }
                    return (levels[$0] - floor[$0]) / max(reference.whiteExpected[$0] - floor[$0], 1e-6) > 0.15
                }
                let shift = plane.shift(moved, at: candidates)
                if abs(shift.dx) < 0.07 && abs(shift.dy) < 0.07 { break }
                moved = moved.offset(dx: shift.dx, dy: shift.dy)
            }
            registration = moved
            let blackLevels = plane.measure(registration)
            // Most LEDs are off: the block median is the local black level (ambient, flare).
            let blackFloor = LEDSampler.expectedLevels(blackLevels, grid: grid, healthyOnly: false)
            relative = (0..<grid.count).map { i in
                let span = max(reference.whiteExpected[i] - blackFloor[i], 1e-6)
                return (blackLevels[i] - blackFloor[i]) / span
            }
            expected = reference.whiteExpected
        } else {
            if let reference { registration = reference.registration } else { registration = try plane.register(grid: grid) }
            let levels = plane.measureLit(registration)
            expected = LEDSampler.expectedLevels(levels, grid: grid)
            relative = (0..<grid.count).map { expected[$0] > 0 ? levels[$0] / expected[$0] : 0 }
            let litShare = Double(relative.filter { $0 >= deadBelow }.count) / Double(grid.count)
            if litShare < 0.5 {
                throw .gridMismatch(String(format: "only %.0f%% of the %@ LEDs look lit; wrong --grid or --pattern, or the display is off", litShare * 100, grid.description))
            }
        }
        var defects: [LEDDefect] = []
        var healthy = [Bool](repeating: true, count: grid.count)
        for i in 0..<grid.count {
            let x = i % grid.cols, y = i / grid.cols
            let r = relative[i]
            if pattern == .black {
                if r > stuckAbove { defects.append(LEDDefect(x: x, y: y, kind: .stuck, channel: .all)); healthy[i] = false }
            } else if r < deadBelow {
                defects.append(LEDDefect(x: x, y: y, kind: .dead, channel: pattern.channel)); healthy[i] = false
            } else if r < dimBelow {
                defects.append(LEDDefect(x: x, y: y, kind: .dim, channel: pattern.channel)); healthy[i] = false
            }
        }
        let map = DefectMap(cols: grid.cols, rows: grid.rows, defects: defects)
        let groups = DefectGroups(map, module: options.module)
        return AnalysisResult(grid: grid, pattern: pattern, registration: registration, defects: map,
                              relativeLevels: relative, groups: groups,
                              uniformity: pattern == .black ? nil : Uniformity(relative: relative, expected: expected, healthy: healthy),
                              faultClass: PixelFaultClass(map, groups: groups))
    }
}

/// A capture of the scene showing white, registered once: the geometry for every capture taken
/// from the same camera position, and each LED's white level for the black pattern.
public struct WhiteReference: Sendable {
    public let registration: Registration
    public let width: Int
    public let height: Int
    let whiteExpected: [Float]

    public init(image: Image, response: Response, grid: LEDGrid) throws(AnalysisError) {
        let white = MeasurementPlane(image: image, pattern: .white, response: response)
        registration = try white.register(grid: grid)
        whiteExpected = LEDSampler.expectedLevels(white.measure(registration), grid: grid)
        width = image.width
        height = image.height
    }
}
