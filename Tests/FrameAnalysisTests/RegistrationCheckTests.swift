import Testing
@testable import FrameAnalysis

/// The registration self-check refuses lattices that miss the LEDs (they would turn healthy
/// LEDs into false defects) and accepts right ones, dead edge lines and dead modules included.
struct RegistrationCheckTests {
    static let grid = LEDGrid(cols: 128, rows: 64)

    static func capture(seed: UInt64, deadTopRow: Bool = false) -> (plane: MeasurementPlane, registration: Registration) {
        var display = SimulatedDisplay.random(cols: grid.cols, rows: grid.rows, seed: seed)
        if deadTopRow { for x in 0..<grid.cols { display.faultLevels[x] = [0, 0, 0] } }
        let camera = CameraSetup.random(cols: grid.cols, rows: grid.rows, width: 1920, height: 1080,
                                        channels: 1, bitDepth: 8, seed: seed)
        let image = CaptureSimulator(display: display, camera: camera).render(.white)
        let plane = MeasurementPlane(image: image, pattern: .white, response: .linear)
        return (plane, try! plane.register(grid: grid))
    }

    @Test(arguments: [UInt64(21), 22, 23])
    func rightLatticePasses(_ seed: UInt64) {
        let (plane, registration) = Self.capture(seed: seed)
        #expect(plane.registrationProblem(registration) == nil)
    }

    @Test func deadTopRowPasses() {
        let (plane, registration) = Self.capture(seed: 401, deadTopRow: true)
        #expect(plane.registrationProblem(registration) == nil)
    }

    @Test func halfLEDOffIsRefused() throws {
        let (plane, registration) = Self.capture(seed: 21)
        let problem = try #require(plane.registrationProblem(registration.offset(dx: 0.5, dy: 0)))
        #expect(problem.contains("misses the LEDs"), "\(problem)")
    }

    @Test func wrongPitchIsRefused() throws {
        let (plane, registration) = Self.capture(seed: 22)
        // The lattice stretched by 3 LEDs over the display's width: in phase at the left edge,
        // between the LEDs in the middle, a whole LED off at the right (what scene 3000 of the
        // independent review produced on a 384x216 display).
        let stretch = Double(Self.grid.cols) / Double(Self.grid.cols + 3)
        let wrong = Registration(grid: Self.grid, gridToCamera: registration.gridToCamera * Homography([stretch, 0, 0, 0, 1, 0, 0, 0, 1]),
                                 lens: registration.lens)
        let problem = try #require(plane.registrationProblem(wrong))
        #expect(problem.contains("misses the LEDs") || problem.contains("beyond the grid"), "\(problem)")
    }

    @Test func wholeColumnsOffIsRefused() throws {
        let (plane, registration) = Self.capture(seed: 23)
        let problem = try #require(plane.registrationProblem(registration.shifted(dx: 2, dy: 0)))
        #expect(problem.contains("beyond the grid"), "\(problem)")
    }
}
