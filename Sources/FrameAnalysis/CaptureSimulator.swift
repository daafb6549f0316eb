import Foundation

/// The test pattern a display shows while it is photographed.
public enum TestPattern: String, Sendable, Codable, CaseIterable {
    case white, red, green, blue, black

    /// The colour channel under test (`all` for white and black).
    public var channel: LEDChannel {
        switch self {
        case .white, .black: return .all
        case .red: return .red
        case .green: return .green
        case .blue: return .blue
        }
    }

    /// Plane index of the channel in an RGB image (nil: all channels).
    var planeIndex: Int? {
        switch self {
        case .red: return 0
        case .green: return 1
        case .blue: return 2
        case .white, .black: return nil
        }
    }
}

/// A display with known faults: the ground truth of simulated captures.
public struct SimulatedDisplay: Sendable {
    public let cols: Int
    public let rows: Int
    public let moduleWidth: Int
    public let moduleHeight: Int
    /// Per-LED fault level per channel (1 healthy, ~0 dead, ~0.5 dim), row-major.
    public var faultLevels: [SIMD3<Float>]
    /// Per-LED brightness spread (manufacturing non-uniformity), row-major.
    public var uniformity: [Float]
    /// Per-LED stuck-on brightness (0 = not stuck), seen in the black pattern.
    public var stuckLevels: [Float]

    public init(cols: Int, rows: Int, moduleWidth: Int = 64, moduleHeight: Int = 32) {
        self.cols = cols
        self.rows = rows
        self.moduleWidth = moduleWidth
        self.moduleHeight = moduleHeight
        faultLevels = Array(repeating: SIMD3(1, 1, 1), count: cols * rows)
        uniformity = Array(repeating: 1, count: cols * rows)
        stuckLevels = Array(repeating: 0, count: cols * rows)
    }

    /// A display with exactly the faults of `map` (e.g. an emulated controller's fault list):
    /// dead LEDs at 5%, dim at 50%, stuck at 80%; a colour channel fails alone when the
    /// defect names one. `nonUniformity` adds the usual LED-to-LED spread (seeded).
    public init(defects map: DefectMap, moduleWidth: Int = 64, moduleHeight: Int = 32,
                nonUniformity: Float = 0.05, seed: UInt64 = 1) {
        self.init(cols: map.cols, rows: map.rows, moduleWidth: moduleWidth, moduleHeight: moduleHeight)
        var rng = SeededRandom(seed: seed)
        for i in 0..<uniformity.count {
            uniformity[i] = Float.random(in: (1 - nonUniformity)...(1 + nonUniformity), using: &rng)
        }
        for defect in map.defects {
            let index = defect.y * cols + defect.x
            switch defect.kind {
            case .stuck:
                stuckLevels[index] = 0.8
            case .dead, .dim:
                let level: Float = defect.kind == .dead ? 0.05 : 0.5
                switch defect.channel {
                case .all: faultLevels[index] = SIMD3(repeating: level)
                case .red: faultLevels[index].x = level
                case .green: faultLevels[index].y = level
                case .blue: faultLevels[index].z = level
                }
            }
        }
    }

    /// What kinds of faults `random` places.
    public struct FaultMix: Sendable {
        public var isolated = 12
        public var lines = 2
        public var modules = 1
        public var clusters = 2
        public var stuck = 6
        /// Single-channel faults (only meaningful for red/green/blue patterns).
        public var channelFaults = 0
        public var nonUniformity: Float = 0.10
        public init() {}
        public static let healthy: FaultMix = {
            var mix = FaultMix()
            mix.isolated = 0; mix.lines = 0; mix.modules = 0; mix.clusters = 0; mix.stuck = 0
            return mix
        }()
    }

    /// A display with seeded random faults of every kind, levels kept clear of the 30% and
    /// 70% thresholds so the ground truth is unambiguous.
    public static func random(cols: Int, rows: Int, seed: UInt64, mix: FaultMix = FaultMix(),
                              moduleWidth: Int = 64, moduleHeight: Int = 32) -> SimulatedDisplay {
        var display = SimulatedDisplay(cols: cols, rows: rows, moduleWidth: moduleWidth,
                                       moduleHeight: moduleHeight)
        var rng = SeededRandom(seed: seed)
        let u = mix.nonUniformity
        for i in 0..<display.uniformity.count { display.uniformity[i] = Float.random(in: (1 - u)...(1 + u), using: &rng) }
        func deadLevel() -> Float { Float.random(in: 0...0.12, using: &rng) }
        func dimLevel() -> Float { Float.random(in: 0.42...0.58, using: &rng) }
        func set(_ x: Int, _ y: Int, _ level: Float) {
            guard (0..<cols).contains(x), (0..<rows).contains(y) else { return }
            display.faultLevels[y * cols + x] = SIMD3(repeating: level)
        }
        for _ in 0..<mix.isolated {
            let x = Int.random(in: 0..<cols, using: &rng), y = Int.random(in: 0..<rows, using: &rng)
            set(x, y, Bool.random(using: &rng) ? deadLevel() : dimLevel())
        }
        for index in 0..<mix.lines {
            let length = Int.random(in: 4...max(4, (index % 2 == 0 ? cols : rows) / 2), using: &rng)
            if index % 2 == 0 {  // a row segment, sometimes on the display's edge
                let y = Bool.random(using: &rng) ? [0, rows - 1].randomElement(using: &rng)! : Int.random(in: 0..<rows, using: &rng)
                let x0 = Int.random(in: 0...(cols - min(length, cols)), using: &rng)
                for x in x0..<min(cols, x0 + length) { set(x, y, deadLevel()) }
            } else {
                let x = Bool.random(using: &rng) ? [0, cols - 1].randomElement(using: &rng)! : Int.random(in: 0..<cols, using: &rng)
                let y0 = Int.random(in: 0...(rows - min(length, rows)), using: &rng)
                for y in y0..<min(rows, y0 + length) { set(x, y, deadLevel()) }
            }
        }
        for _ in 0..<mix.modules {
            let mw = min(moduleWidth, cols), mh = min(moduleHeight, rows)
            let mx = Int.random(in: 0..<max(1, cols / mw), using: &rng) * mw
            let my = Int.random(in: 0..<max(1, rows / mh), using: &rng) * mh
            // Never the whole display: a dead module must leave something to register on.
            if mw == cols && mh == rows { continue }
            for y in my..<my + mh { for x in mx..<mx + mw { set(x, y, deadLevel()) } }
        }
        for _ in 0..<mix.clusters {
            let cx = Int.random(in: 0..<cols, using: &rng), cy = Int.random(in: 0..<rows, using: &rng)
            let dim = Bool.random(using: &rng)
            for _ in 0..<Int.random(in: 3...7, using: &rng) {
                set(cx + Int.random(in: -1...1, using: &rng), cy + Int.random(in: -1...1, using: &rng),
                    dim ? dimLevel() : deadLevel())
            }
        }
        for _ in 0..<mix.channelFaults {
            let x = Int.random(in: 0..<cols, using: &rng), y = Int.random(in: 0..<rows, using: &rng)
            let channel = Int.random(in: 0..<3, using: &rng)
            display.faultLevels[y * cols + x][channel] = Bool.random(using: &rng) ? deadLevel() : dimLevel()
        }
        for _ in 0..<mix.stuck {
            let x = Int.random(in: 0..<cols, using: &rng), y = Int.random(in: 0..<rows, using: &rng)
            display.stuckLevels[y * cols + x] = Float.random(in: 0.55...1.0, using: &rng)
        }
        return display
    }

    /// The defects a perfect analysis of `pattern` reports.
    public func truth(for pattern: TestPattern) -> DefectMap {
        var defects: [LEDDefect] = []
        for y in 0..<rows {
            for x in 0..<cols {
                let index = y * cols + x
                if pattern == .black {
                    if stuckLevels[index] > 0.3 { defects.append(LEDDefect(x: x, y: y, kind: .stuck)) }
                    continue
                }
                let f = faultLevels[index]
                let level = pattern.planeIndex.map { f[$0] } ?? (f.x + f.y + f.z) / 3
                if level < 0.3 { defects.append(LEDDefect(x: x, y: y, kind: .dead, channel: pattern.channel)) }
                else if level < 0.7 { defects.append(LEDDefect(x: x, y: y, kind: .dim, channel: pattern.channel)) }
            }
        }
        return DefectMap(cols: cols, rows: rows, defects: defects)
    }

    /// Emitted light per channel of LED `index` under `pattern`.
    func emission(_ index: Int, _ pattern: TestPattern) -> SIMD3<Float> {
        switch pattern {
        case .black: return SIMD3(repeating: stuckLevels[index])
        case .white: return faultLevels[index] * uniformity[index]
        case .red, .green, .blue:
            var e = SIMD3<Float>(0, 0, 0)
            e[pattern.planeIndex!] = faultLevels[index][pattern.planeIndex!] * uniformity[index]
            return e
        }
    }
}

/// How the simulated camera sees the display: pose, optics, sensor.
public struct CameraSetup: Sendable {
    public var width = 1920
    public var height = 1080
    public var channels = 1
    public var bitDepth = 8
    /// Fraction of the frame's limiting dimension the display spans.
    public var fill = 0.7
    public var tiltXDegrees = 0.0
    public var tiltYDegrees = 0.0
    public var rotationDegrees = 0.0
    /// Display centre offset from the frame centre, as a fraction of the free margin (-1...1).
    public var offsetX = 0.0
    public var offsetY = 0.0
    /// Radial distortion at the frame corner (negative: barrel), e.g. -0.02.
    public var barrel = 0.0
    /// Gaussian lens blur in camera pixels.
    public var blurPixels = 0.7
    /// Gaussian LED emitter size in LED pitches.
    public var spotSigma = 0.22
    /// Square emitters of this side (in LED pitches) with hard edges, blurred by the lens,
    /// instead of Gaussian spots (nil).
    public var squareEmitter: Double? = nil
    /// Brightness fall-off at the frame corner (0.3 = 30% darker).
    public var vignetting = 0.2
    /// Noise: read noise and shot-noise factor, as fractions of full scale.
    public var readNoise = 0.004
    public var shotNoise = 0.01
    /// A healthy LED's peak level as a fraction of full scale.
    public var exposure = 0.75
    /// The display's black face under ambient light, relative to an LED's peak.
    public var faceLevel = 0.02
    /// Background clutter rectangles and their maximum level relative to an LED's peak.
    public var clutter = 25
    public var clutterLevel = 0.25
    /// Extra dark gap between modules, in LED pitches (module seams).
    public var seamGap = 0.0
    /// Extra translation of the whole picture in pixels (a camera nudged between shots).
    public var shiftX = 0.0
    public var shiftY = 0.0
    /// sRGB-encoded output (as phones produce) instead of linear.
    public var srgb = false
    public var seed: UInt64 = 1

    public init() {}

    /// A seeded random pose and optics within the ranges the analysis promises to handle:
    /// tilt up to 15 degrees, rotation up to 5, 40-95% fill (narrowed to keep 3-12 pixels per
    /// LED), blur, vignetting, noise, slight barrel distortion, clutter, seams.
    public static func random(cols: Int, rows: Int, width: Int, height: Int, channels: Int,
                              bitDepth: Int, seed: UInt64) -> CameraSetup {
        var rng = SeededRandom(seed: seed ^ 0xCA3E_4A)
        var camera = CameraSetup()
        camera.width = width
        camera.height = height
        camera.channels = channels
        camera.bitDepth = bitDepth
        camera.seed = seed
        // The limiting dimension decides the pixels per LED.
        let across = min(Double(width) / Double(cols), Double(height) / Double(rows))
        let lowFill = max(0.4, 3.2 / across), highFill = min(0.9, 11.0 / across)
        camera.fill = lowFill <= highFill ? rng.uniform(lowFill...highFill) : max(0.4, min(0.9, lowFill))
        camera.tiltXDegrees = rng.uniform(-15...15)
        camera.tiltYDegrees = rng.uniform(-15...15)
        camera.rotationDegrees = rng.uniform(-5...5)
        camera.offsetX = rng.uniform(-0.8...0.8)
        camera.offsetY = rng.uniform(-0.8...0.8)
        camera.barrel = rng.uniform(-0.03...0)
        camera.blurPixels = rng.uniform(0.3...1.2)
        camera.spotSigma = rng.uniform(0.17...0.26)
        camera.vignetting = rng.uniform(0...0.35)
        camera.readNoise = rng.uniform(0.001...0.006)
        camera.shotNoise = rng.uniform(0.003...0.015)
        camera.exposure = rng.uniform(0.45...0.85)
        camera.faceLevel = rng.uniform(0...0.04)
        camera.clutter = Int.random(in: 5...40, using: &rng)
        camera.clutterLevel = rng.uniform(0.05...0.3)
        camera.seamGap = Bool.random(using: &rng) ? rng.uniform(0...0.15) : 0
        return camera
    }
}

/// Renders deterministic, seeded photographs of a `SimulatedDisplay` showing a test pattern.
public struct CaptureSimulator: Sendable {
    public let display: SimulatedDisplay
    public let camera: CameraSetup
    /// Display plane (LED units, origin at the display centre) to undistorted camera pixels.
    let planeToCamera: Homography
    let cameraToPlane: Homography
    let planeWidth: Double
    let planeHeight: Double
    let sigma: Double
    /// Lens blur in LED pitches.
    let blurSigma: Double

    public init(display: SimulatedDisplay, camera: CameraSetup) {
        self.display = display
        self.camera = camera
        let seamsX = Double(max(0, (display.cols - 1) / display.moduleWidth))
        let seamsY = Double(max(0, (display.rows - 1) / display.moduleHeight))
        planeWidth = Double(display.cols) + seamsX * camera.seamGap
        planeHeight = Double(display.rows) + seamsY * camera.seamGap
        let rx = camera.tiltXDegrees * .pi / 180, ry = camera.tiltYDegrees * .pi / 180
        let rz = camera.rotationDegrees * .pi / 180
        // R = Rz * Ry * Rx, columns 0 and 1 (the plane's axes) are all a plane needs.
        let (cx, sx, cy, sy, cz, sz) = (cos(rx), sin(rx), cos(ry), sin(ry), cos(rz), sin(rz))
        let r00 = cz * cy, r01 = cz * sy * sx - sz * cx
        let r10 = sz * cy, r11 = sz * sy * sx + cz * cx
        let r20 = -sy, r21 = cy * sx
        let distance = 1.6 * max(planeWidth, planeHeight)
        let unit = Homography([r00, r01, 0, r10, r11, 0, r20, r21, distance])
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        for corner in [Point(-planeWidth / 2, -planeHeight / 2), Point(planeWidth / 2, -planeHeight / 2),
                       Point(planeWidth / 2, planeHeight / 2), Point(-planeWidth / 2, planeHeight / 2)] {
            let p = unit.apply(corner)
            minX = min(minX, p.x); maxX = max(maxX, p.x); minY = min(minY, p.y); maxY = max(maxY, p.y)
        }
        let focal = camera.fill * min(Double(camera.width) / (maxX - minX), Double(camera.height) / (maxY - minY))
        let spanX = (maxX - minX) * focal, spanY = (maxY - minY) * focal
        let marginX = max(0, (Double(camera.width) - spanX) / 2 - 4)
        let marginY = max(0, (Double(camera.height) - spanY) / 2 - 4)
        let centreX = Double(camera.width) / 2 - (minX + maxX) / 2 * focal + camera.offsetX * marginX + camera.shiftX
        let centreY = Double(camera.height) / 2 - (minY + maxY) / 2 * focal + camera.offsetY * marginY + camera.shiftY
        let projection = Homography([focal, 0, centreX, 0, focal, centreY, 0, 0, 1])
        planeToCamera = projection * unit
        cameraToPlane = planeToCamera.inverse
        let pitch = planeToCamera.pitch(at: Point(0, 0))
        let pitchPixels = (pitch.x + pitch.y) / 2
        sigma = (camera.spotSigma * camera.spotSigma
                 + (camera.blurPixels / pitchPixels) * (camera.blurPixels / pitchPixels)).squareRoot()
        blurSigma = max(0.03, camera.blurPixels / pitchPixels)
    }

    /// Light of one LED at offset (du, dv) pitches from its centre, 1 at the centre.
    @inline(__always)
    func spot(_ du: Double, _ dv: Double, twoSigma2: Double, reach2: Double) -> Double {
        guard let side = camera.squareEmitter else {
            let d2 = du * du + dv * dv
            return d2 > reach2 ? 0 : exp(-d2 / twoSigma2)
        }
        let half = side / 2, scale = 1 / (2.0.squareRoot() * blurSigma)
        func edge(_ d: Double) -> Double { 0.5 * (erf((d + half) * scale) - erf((d - half) * scale)) }
        let limit = half + 3 * blurSigma
        guard abs(du) < limit, abs(dv) < limit else { return 0 }
        let peak = edge(0)
        return edge(du) * edge(dv) / (peak * peak)
    }

    /// Plane position of LED (x, y)'s centre, seams included.
    func planePosition(_ x: Int, _ y: Int) -> Point {
        Point(Double(x) + 0.5 + Double(x / display.moduleWidth) * camera.seamGap - planeWidth / 2,
              Double(y) + 0.5 + Double(y / display.moduleHeight) * camera.seamGap - planeHeight / 2)
    }

    /// Where LED (x, y)'s centre lands in the capture (camera pixels, distortion included).
    public func cameraPosition(x: Int, y: Int) -> Point { distort(planeToCamera.apply(planePosition(x, y))) }

    /// Mean camera pixels per LED near the display centre.
    public var pixelsPerLED: Double {
        let p = planeToCamera.pitch(at: Point(0, 0))
        return (p.x + p.y) / 2
    }

    private var halfDiagonal: Double {
        (Double(camera.width * camera.width + camera.height * camera.height)).squareRoot() / 2
    }

    func distort(_ p: Point) -> Point {
        let cx = Double(camera.width) / 2, cy = Double(camera.height) / 2
        let dx = p.x - cx, dy = p.y - cy
        let r2 = (dx * dx + dy * dy) / (halfDiagonal * halfDiagonal)
        let f = 1 + camera.barrel * r2
        return Point(cx + dx * f, cy + dy * f)
    }

    func undistort(_ p: Point) -> Point {
        let cx = Double(camera.width) / 2, cy = Double(camera.height) / 2
        let dx = p.x - cx, dy = p.y - cy
        var f = 1.0
        for _ in 0..<4 {
            let r2 = (dx * dx + dy * dy) / (f * f) / (halfDiagonal * halfDiagonal)
            f = 1 + camera.barrel * r2
        }
        return Point(cx + dx / f, cy + dy / f)
    }

    /// Renders the display showing `pattern`.
    public func render(_ pattern: TestPattern) -> Image {
        let width = camera.width, height = camera.height, channels = camera.channels
        let clutter = makeClutter()
        let maxValue = camera.bitDepth == 8 ? 255.0 : 65535.0
        var rng = SeededRandom(seed: camera.seed &* 31 &+ UInt64(TestPattern.allCases.firstIndex(of: pattern)!))
        // The display's bounding box in the capture: only there are LEDs evaluated.
        var box = (minX: Double.infinity, maxX: -Double.infinity, minY: Double.infinity, maxY: -Double.infinity)
        for corner in [Point(-planeWidth / 2 - 1, -planeHeight / 2 - 1), Point(planeWidth / 2 + 1, -planeHeight / 2 - 1),
                       Point(planeWidth / 2 + 1, planeHeight / 2 + 1), Point(-planeWidth / 2 - 1, planeHeight / 2 + 1)] {
            let p = distort(planeToCamera.apply(corner))
            box = (min(box.minX, p.x), max(box.maxX, p.x), min(box.minY, p.y), max(box.maxY, p.y))
        }
        let emissions = (0..<display.cols * display.rows).map { display.emission($0, pattern) }
        let modulePitchX = Double(display.moduleWidth) + camera.seamGap
        let modulePitchY = Double(display.moduleHeight) + camera.seamGap
        let twoSigma2 = 2 * sigma * sigma, reach2 = 9 * sigma * sigma
        var row = [SIMD3<Float>](repeating: .zero, count: width)
        var samples8 = camera.bitDepth == 8 ? [UInt8](repeating: 0, count: width * height * channels) : []
        var samples16 = camera.bitDepth == 16 ? [UInt16](repeating: 0, count: width * height * channels) : []
        let plane = width * height
        let cx = Double(width) / 2, cy = Double(height) / 2
        for y in 0..<height {
            clutter.fill(row: y, into: &row)
            if Double(y) >= box.minY && Double(y) <= box.maxY {
                let x0 = max(0, Int(box.minX)), x1 = min(width - 1, Int(box.maxX) + 1)
                if x0 <= x1 {
                    for x in x0...x1 {
                        let q = cameraToPlane.apply(undistort(Point(Double(x), Double(y))))
                        let u = q.x + planeWidth / 2, v = q.y + planeHeight / 2
                        guard u > -1.5, v > -1.5, u < planeWidth + 1.5, v < planeHeight + 1.5 else { continue }
                        var value = SIMD3<Float>.zero
                        if u >= -0.3 && v >= -0.3 && u <= planeWidth + 0.3 && v <= planeHeight + 0.3 {
                            value = SIMD3(repeating: Float(camera.faceLevel))
                        } else {
                            value = row[x]
                        }
                        let mx = floor(u / modulePitchX), my = floor(v / modulePitchY)
                        let i0 = Int(mx) * display.moduleWidth + Int(floor(u - mx * modulePitchX))
                        let j0 = Int(my) * display.moduleHeight + Int(floor(v - my * modulePitchY))
                        let jLow = max(0, j0 - 1), jHigh = min(display.rows - 1, j0 + 1)
                        let iLow = max(0, i0 - 1), iHigh = min(display.cols - 1, i0 + 1)
                        if jLow <= jHigh && iLow <= iHigh {
                        for j in jLow...jHigh {
                            for i in iLow...iHigh {
                                let e = emissions[j * display.cols + i]
                                if e == .zero { continue }
                                let c = planePosition(i, j)
                                let light = spot(q.x - c.x, q.y - c.y, twoSigma2: twoSigma2, reach2: reach2)
                                if light > 0 { value += e * Float(light) }
                            }
                        }
                        }
                        row[x] = value
                    }
                }
            }
            for x in 0..<width {
                let dx = (Double(x) - cx) / halfDiagonal, dy = (Double(y) - cy) / halfDiagonal
                let light = Float(camera.exposure * (1 - camera.vignetting * (dx * dx + dy * dy)))
                var pixel = row[x] * light
                if channels == 1 {
                    pixel = SIMD3(repeating: pattern == .white || pattern == .black
                                  ? (pixel.x + pixel.y + pixel.z) / 3 : max(pixel.x, pixel.y, pixel.z))
                } else {
                    // A little colour crosstalk, as Bayer sensors have.
                    let mean = (pixel.x + pixel.y + pixel.z) / 3
                    pixel = pixel * 0.94 + SIMD3(repeating: mean * 0.06)
                }
                for c in 0..<channels {
                    let linear = Double(pixel[c])
                    let noise = (camera.readNoise * camera.readNoise + camera.shotNoise * camera.shotNoise * max(0, linear)).squareRoot()
                    var value = max(0, min(1, linear + noise * fastGaussian(&rng)))
                    if camera.srgb { value = srgbEncode(value) }
                    let stored = value * maxValue + 0.5
                    if camera.bitDepth == 8 { samples8[c * plane + y * width + x] = UInt8(stored) }
                    else { samples16[c * plane + y * width + x] = UInt16(stored) }
                }
            }
        }
        return Image(width: width, height: height, channels: channels, maxValue: Int(maxValue),
                     samples: camera.bitDepth == 8 ? .uint8(samples8) : .uint16(samples16))
    }

    private func fastGaussian(_ rng: inout SeededRandom) -> Double {
        // Irwin-Hall: the sum of four uniforms, rescaled; close enough to normal for noise.
        let r = rng.next()
        let a = Double(r & 0xFFFF), b = Double((r >> 16) & 0xFFFF), c = Double((r >> 32) & 0xFFFF), d = Double(r >> 48)
        return ((a + b + c + d) / 65535 - 2) * 1.7320508
    }

    private func makeClutter() -> Clutter {
        var rng = SeededRandom(seed: camera.seed ^ 0x5EED_C1)
        var rects: [Clutter.Rect] = []
        let w = Double(camera.width), h = Double(camera.height)
        for _ in 0..<camera.clutter {
            let rw = rng.uniform(0.02...0.5) * w, rh = rng.uniform(0.02...0.5) * h
            let x = rng.uniform(-0.1...1) * w, y = rng.uniform(-0.1...1) * h
            let level = Float(rng.uniform(0...camera.clutterLevel))
            let tr = Float(rng.uniform(0.7...1)), tg = Float(rng.uniform(0.7...1)), tb = Float(rng.uniform(0.7...1))
            let tint = SIMD3<Float>(tr, tg, tb)
            rects.append(.init(x0: Int(x), y0: Int(y), x1: Int(x + rw), y1: Int(y + rh), value: tint * level))
        }
        // A cabinet frame around the display, a little brighter than the wall.
        let frameLevel = Float(rng.uniform(0.02...camera.clutterLevel))
        let corners = [Point(-planeWidth / 2 - 2, -planeHeight / 2 - 2), Point(planeWidth / 2 + 2, planeHeight / 2 + 2)]
            .map { distort(planeToCamera.apply($0)) }
        rects.append(.init(x0: Int(min(corners[0].x, corners[1].x)), y0: Int(min(corners[0].y, corners[1].y)),
                           x1: Int(max(corners[0].x, corners[1].x)), y1: Int(max(corners[0].y, corners[1].y)),
                           value: SIMD3(repeating: frameLevel)))
        return Clutter(base: Float(rng.uniform(0.005...0.03)), rects: rects)
    }
}

/// The background: a wall plus overlapping rectangles (furniture, cabinet frames).
struct Clutter {
    struct Rect { let x0, y0, x1, y1: Int; let value: SIMD3<Float> }
    let base: Float
    let rects: [Rect]

    func fill(row y: Int, into row: inout [SIMD3<Float>]) {
        for x in 0..<row.count { row[x] = SIMD3(repeating: base) }
        for r in rects where y >= r.y0 && y < r.y1 {
            let a = max(0, r.x0), b = min(row.count, r.x1)
            if a < b { for x in a..<b { row[x] = r.value } }
        }
    }
}

func srgbEncode(_ linear: Double) -> Double {
    linear <= 0.0031308 ? 12.92 * linear : 1.055 * pow(linear, 1 / 2.4) - 0.055
}

func srgbDecode(_ encoded: Double) -> Double {
    encoded <= 0.04045 ? encoded / 12.92 : pow((encoded + 0.055) / 1.055, 2.4)
}
