import Foundation

/// An LED grid size, columns x rows.
public struct LEDGrid: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public let cols: Int
    public let rows: Int
    public init(cols: Int, rows: Int) {
        self.cols = cols
        self.rows = rows
    }
    /// Parses "COLSxROWS", e.g. "64x32".
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let c = Int(parts[0]), let r = Int(parts[1]), c > 0, r > 0 else { return nil }
        self.init(cols: c, rows: r)
    }
    public var description: String { "\(cols)x\(rows)" }
    public var count: Int { cols * rows }
}

/// Why a capture could not be analysed (the file itself was readable).
public enum AnalysisError: Error, Equatable, CustomStringConvertible {
    /// No bright display-shaped region in the capture.
    case displayNotFound(String)
    /// The LED lattice seen does not match `--grid`.
    case gridMismatch(String)
    /// The reference capture cannot provide geometry for this capture.
    case referenceMismatch(String)
    /// A black pattern needs a reference capture showing white.
    case referenceRequired
    /// The fitted LED lattice fails its self-check: defects found on it would be false.
    case registrationUnsure(String)

    public var description: String {
        switch self {
        case .displayNotFound(let why): return "display not found: \(why)"
        case .gridMismatch(let why): return "grid does not fit the capture: \(why)"
        case .referenceMismatch(let why): return "reference unusable: \(why)"
        case .referenceRequired:
            return "the black pattern needs --reference (a capture of the same scene showing white)"
        case .registrationUnsure(let why): return "registration unsure, no defects reported: \(why)"
        }
    }
}

/// Radial lens distortion about the frame centre: p' = c + (p - c)(1 + k r^2), r relative to
/// the half diagonal (k < 0: barrel).
public struct RadialLens: Sendable, Equatable {
    public var k: Double
    let centre: Point
    let radius: Double

    init(k: Double, width: Int, height: Int) {
        self.k = k
        centre = Point(Double(width) / 2, Double(height) / 2)
        radius = (Double(width * width + height * height)).squareRoot() / 2
    }

    func distort(_ p: Point) -> Point {
        guard k != 0 else { return p }
        let dx = p.x - centre.x, dy = p.y - centre.y
        let f = 1 + k * (dx * dx + dy * dy) / (radius * radius)
        return Point(centre.x + dx * f, centre.y + dy * f)
    }

    func undistort(_ p: Point) -> Point {
        guard k != 0 else { return p }
        let dx = p.x - centre.x, dy = p.y - centre.y
        var f = 1.0
        for _ in 0..<4 { f = 1 + k * (dx * dx + dy * dy) / (f * f) / (radius * radius) }
        return Point(centre.x + dx / f, centre.y + dy / f)
    }
}

/// Where every LED of the grid lies in the capture: a homography from grid coordinates (LED
/// (x, y)'s centre at (x, y)) to undistorted camera pixels, radial lens distortion, and a
/// smooth local correction field (module seams, what the lens model leaves) measured on the
/// LED lattice itself.
public struct Registration: Sendable {
    public let grid: LEDGrid
    public let gridToCamera: Homography
    public let lens: RadialLens
    /// What the registration could not decide (shown to the user).
    public internal(set) var warnings: [String] = []
    /// Correction field on a coarse block grid, camera pixels, bilinearly interpolated.
    let blockSize: Int
    let fieldCols: Int
    let fieldRows: Int
    let fieldX: [Double]
    let fieldY: [Double]
    /// Offset of each LED column and each LED row, camera pixels: module seams are steps
    /// along whole lines, which a smooth block field cannot follow.
    let columnShift: [Point]
    let rowShift: [Point]

    init(grid: LEDGrid, gridToCamera: Homography, lens: RadialLens, blockSize: Int = 8,
         fieldCols: Int = 0, fieldRows: Int = 0, fieldX: [Double] = [], fieldY: [Double] = [],
         columnShift: [Point] = [], rowShift: [Point] = []) {
        self.grid = grid
        self.gridToCamera = gridToCamera
        self.lens = lens
        // `correction` reads the field unchecked.
        precondition(fieldX.count == fieldCols * fieldRows && fieldY.count == fieldX.count)
        self.blockSize = blockSize
        self.fieldCols = fieldCols
        self.fieldRows = fieldRows
        self.fieldX = fieldX
        self.fieldY = fieldY
        self.columnShift = columnShift
        self.rowShift = rowShift
    }

    /// Camera position of grid point (x, y) (LED centres at integers; may lie outside the grid).
    public func cameraPosition(_ x: Double, _ y: Double) -> Point {
        var p = lens.distort(gridToCamera.apply(Point(x, y)))
        if !columnShift.isEmpty {
            let column = columnShift[min(max(Int(x.rounded()), 0), columnShift.count - 1)]
            let row = rowShift[min(max(Int(y.rounded()), 0), rowShift.count - 1)]
            p = Point(p.x + column.x + row.x, p.y + column.y + row.y)
        }
        guard fieldCols > 0 else { return p }
        let c = correction(x, y)
        return Point(p.x + c.x, p.y + c.y)
    }

    func correction(_ x: Double, _ y: Double) -> Point {
        let b = Double(blockSize)
        let fx = min(max((x + 0.5) / b - 0.5, 0), Double(fieldCols - 1))
        let fy = min(max((y + 0.5) / b - 0.5, 0), Double(fieldRows - 1))
        let x0 = min(Int(fx), max(0, fieldCols - 2)), y0 = min(Int(fy), max(0, fieldRows - 2))
        let x1 = min(x0 + 1, fieldCols - 1), y1 = min(y0 + 1, fieldRows - 1)
        let tx = fx - Double(x0), ty = fy - Double(y0)
        // x0...x1 and y0...y1 are clamped to the field, whose size init checks: unchecked
        // reads, as this runs for every projected LED position.
        func mix(_ f: [Double]) -> Double {
            f.withUnsafeBufferPointer { f in
                let top = f[y0 &* fieldCols &+ x0] * (1 - tx) + f[y0 &* fieldCols &+ x1] * tx
                let bottom = f[y1 &* fieldCols &+ x0] * (1 - tx) + f[y1 &* fieldCols &+ x1] * tx
                return top * (1 - ty) + bottom * ty
            }
        }
        return Point(mix(fieldX), mix(fieldY))
    }

    /// The display's outline in the capture: the outer corners of the corner LEDs' cells,
    /// clockwise from top-left.
    public var outline: [Point] {
        let c = Double(grid.cols), r = Double(grid.rows)
        return [cameraPosition(-0.5, -0.5), cameraPosition(c - 0.5, -0.5),
                cameraPosition(c - 0.5, r - 0.5), cameraPosition(-0.5, r - 0.5)]
    }

    /// Camera pixels per LED at the grid centre.
    public var pixelsPerLED: Double {
        let p = gridToCamera.pitch(at: Point(Double(grid.cols) / 2, Double(grid.rows) / 2))
        return (p.x + p.y) / 2
    }

    /// The same geometry moved by a fraction of an LED (a camera nudged between shots).
    func offset(dx: Double, dy: Double) -> Registration {
        var moved = Registration(grid: grid, gridToCamera: gridToCamera * Homography([1, 0, dx, 0, 1, dy, 0, 0, 1]),
                                 lens: lens, blockSize: blockSize, fieldCols: fieldCols, fieldRows: fieldRows,
                                 fieldX: fieldX, fieldY: fieldY, columnShift: columnShift, rowShift: rowShift)
        moved.warnings = warnings
        return moved
    }

    func shifted(dx: Int, dy: Int) -> Registration {
        Registration(grid: grid, gridToCamera: gridToCamera * Homography([1, 0, Double(dx), 0, 1, Double(dy), 0, 0, 1]),
                     lens: lens)
    }
}

/// Finds the display and fits the LED lattice. Steps: the display's bright region on a
/// reduced frame, its four edges by robust line fits (dead edge LEDs and clutter are outliers),
/// a homography from the grid box; a check of the LED pitch against `--grid` by a Fourier
/// profile; then the lattice itself: phase lock in a central block, LED centroids fitted
/// outward block by block, a local correction field, and an integer-shift check against dead
/// edge lines.
enum Registrar {
    static func register<P: LinearPlane>(_ plane: P, grid: LEDGrid) throws(AnalysisError) -> Registration {
        let quad = try findOutline(plane)
        let box = [Point(-0.5, -0.5), Point(Double(grid.cols) - 0.5, -0.5),
                   Point(Double(grid.cols) - 0.5, Double(grid.rows) - 0.5), Point(-0.5, Double(grid.rows) - 0.5)]
        guard let initial = Homography.fit(from: box, to: quad) else {
            throw .displayNotFound("the bright region has no usable four-sided outline")
        }
        let start = Registration(grid: grid, gridToCamera: initial,
                                 lens: RadialLens(k: 0, width: plane.width, height: plane.height))
        let centre = Point(Double(grid.cols) / 2, Double(grid.rows) / 2)
        let pitches = start.gridToCamera.pitch(at: centre)
        let pitch = min(pitches.x, pitches.y)
        guard pitch >= 2 else {
            throw .gridMismatch(String(format: "a %@ grid would give %.1f camera pixels per LED; at least 2 are needed (3 or more recommended)", grid.description, pitch))
        }
        // LEDs sit on a square lattice; tilt alone never stretches it this far.
        guard max(pitches.x, pitches.y) / pitch < 1.8 else {
            throw .gridMismatch(String(format: "a %@ grid would make each LED cell %.1f times wider than tall (or taller than wide) in the capture", grid.description, max(pitches.x, pitches.y) / pitch))
        }
        try checkPitch(plane, start)
        var registration = lockLattice(plane, start)
        registration = try resolveShift(plane, registration)
        registration = refineField(plane, registration)
        if let beyond = RegistrationCheck.litLineBeyondGrid(plane, registration) {
            // The final fit slid by whole LEDs (seen on 384x216 grids under strong perspective):
            // choose the integer shift again on the refined lattice and refit from there. The
            // grid already passed the pitch check, so no fitting shift means a bad lattice.
            do { registration = refineField(plane, try resolveShift(plane, registration)) } catch {
                throw .registrationUnsure("\(beyond), and no whole-LED shift of it fits")
            }
        }
        if let problem = RegistrationCheck.problem(plane, registration) { throw .registrationUnsure(problem) }
        return registration
    }

    // MARK: Outline

    static func findOutline<P: LinearPlane>(_ plane: P) throws(AnalysisError) -> [Point] {
        let factor = max(1, max(plane.width, plane.height) / 480)
        let w = plane.width / factor, h = plane.height / factor
        guard w >= 16, h >= 16 else { throw .displayNotFound("capture too small (\(plane.width)x\(plane.height))") }
        // Block maxima, then a morphological closing: LEDs are bright points on a dark face,
        // so this fills the gaps between them while flat clutter, however large, stays at its
        // own (darker) level. Block means would let sparse LEDs sink into the clutter.
        var small = plane.blockMaxima(factor: factor)
        small = morphology(small, width: w, height: h, radius: 3, maximum: true)
        small = morphology(small, width: w, height: h, radius: 3, maximum: false)
        let threshold = otsu(small)
        // Largest 4-connected bright component.
        var label = [Int32](repeating: 0, count: w * h)
        var best = (label: Int32(0), size: 0)
        var next: Int32 = 0
        var stack: [Int] = []
        for start in 0..<w * h where small[start] > threshold && label[start] == 0 {
            next += 1
            label[start] = next
            stack.append(start)
            var size = 0
            while let i = stack.popLast() {
                size += 1
                let x = i % w, y = i / w
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                where nx >= 0 && ny >= 0 && nx < w && ny < h {
                    let n = ny * w + nx
                    if label[n] == 0 && small[n] > threshold { label[n] = next; stack.append(n) }
                }
            }
            if size > best.size { best = (next, size) }
        }
        guard best.size >= w * h / 50 else {
            throw .displayNotFound("no bright region large enough for a display (is the pattern lit and the display in frame?)")
        }
        // Outermost component pixel per row and per column, inside the central 80% of its span.
        var top = h, bottom = -1, left = w, right = -1
        for y in 0..<h { for x in 0..<w where label[y * w + x] == best.label {
            top = min(top, y); bottom = max(bottom, y); left = min(left, x); right = max(right, x)
        } }
        var leftEdge: [(Double, Double)] = [], rightEdge: [(Double, Double)] = []
        var topEdge: [(Double, Double)] = [], bottomEdge: [(Double, Double)] = []
        let yMargin = (bottom - top) / 10, xMargin = (right - left) / 10
        for y in (top + yMargin)...(bottom - yMargin) {
            var first = -1, last = -1
            for x in left...right where label[y * w + x] == best.label { if first < 0 { first = x }; last = x }
            if first >= 0 { leftEdge.append((Double(y), Double(first) - 0.5)); rightEdge.append((Double(y), Double(last) + 0.5)) }
        }
        for x in (left + xMargin)...(right - xMargin) {
            var first = -1, last = -1
            for y in top...bottom where label[y * w + x] == best.label { if first < 0 { first = y }; last = y }
            if first >= 0 { topEdge.append((Double(x), Double(first) - 0.5)); bottomEdge.append((Double(x), Double(last) + 0.5)) }
        }
        guard let l = robustLine(leftEdge, outward: -1), let r = robustLine(rightEdge, outward: 1),
              let t = robustLine(topEdge, outward: -1), let b = robustLine(bottomEdge, outward: 1) else {
            throw .displayNotFound("the bright region has no straight edges")
        }
        // x = a*y + c for left/right, y = a*x + c for top/bottom.
        func corner(_ vertical: (a: Double, c: Double), _ horizontal: (a: Double, c: Double)) -> Point {
            let x = (vertical.a * horizontal.c + vertical.c) / (1 - vertical.a * horizontal.a)
            let y = horizontal.a * x + horizontal.c
            // Reduced-frame pixel edges to full-frame pixel centres.
            return Point(x * Double(factor) - 0.5, y * Double(factor) - 0.5)
        }
        let corners = [corner(l, t), corner(r, t), corner(r, b), corner(l, b)]
        let widthSeen = corners[1].x - corners[0].x, heightSeen = corners[3].y - corners[0].y
        guard widthSeen > 8, heightSeen > 8 else { throw .displayNotFound("the bright region is degenerate") }
        return corners
    }

    /// The display's outer edge through edge points s = a*t + c (s grows outward when
    /// `outward` is +1). Missing corners, dead modules and dead edge segments pull points
    /// inward, so among candidate lines through point pairs the one with the most points on it
    /// and almost none outside it wins; then least squares on its inliers.
    static func robustLine(_ points: [(Double, Double)], outward: Double = 1, tolerance: Double = 1.5) -> (a: Double, c: Double)? {
        let n = points.count
        guard n >= 6 else { return nil }
        let step = max(1, n / 48)
        var best: (a: Double, c: Double, inliers: Int)? = nil
        for i in Swift.stride(from: 0, to: n, by: step) {
            for j in Swift.stride(from: i + max(1, n / 6), to: n, by: step) {
                let p = points[i], q = points[j]
                guard q.0 != p.0 else { continue }
                let a = (q.1 - p.1) / (q.0 - p.0), c = p.1 - a * p.0
                var inliers = 0, outside = 0
                for point in points {
                    let r = (point.1 - a * point.0 - c) * outward
                    if abs(r) <= tolerance { inliers += 1 } else if r > tolerance { outside += 1 }
                }
                if outside <= n / 10, inliers > (best?.inliers ?? 0) { best = (a, c, inliers) }
            }
        }
        guard var (a, c, _) = best else { return nil }
        for _ in 0..<2 {
            let inliers = points.filter { abs($0.1 - a * $0.0 - c) <= tolerance }
            guard inliers.count >= 4 else { break }
            let count = Double(inliers.count)
            let st = inliers.reduce(0) { $0 + $1.0 }, ss = inliers.reduce(0) { $0 + $1.1 }
            let stt = inliers.reduce(0) { $0 + $1.0 * $1.0 }, sts = inliers.reduce(0) { $0 + $1.0 * $1.1 }
            let den = count * stt - st * st
            guard abs(den) > 1e-9 else { break }
            a = (count * sts - st * ss) / den
            c = (ss - a * st) / count
        }
        return (a, c)
    }

    // MARK: Pitch check

    /// Compares the LED period seen along each axis with the one `--grid` implies, so a wrong
    /// grid gives a clear error instead of a lattice locked at the wrong pitch.
    static func checkPitch<P: LinearPlane>(_ plane: P, _ registration: Registration) throws(AnalysisError) {
        let grid = registration.grid
        for horizontal in [true, false] {
            let along = horizontal ? grid.cols : grid.rows, across = horizontal ? grid.rows : grid.cols
            guard along >= 8 else { continue }
            let perUnit = 8, count = along * perUnit
            let lines = min(5, max(3, across / 3))
            let frequencies = Array(Swift.stride(from: 0.3, through: 3.0, by: 0.02))
            var power = [Double](repeating: 0, count: frequencies.count)
            var profile = [Double](repeating: 0, count: count)
            for k in 0..<lines {
                let s = Double(across) * (0.3 + 0.4 * (Double(k) + 0.5) / Double(lines)) - 0.5
                for t in 0..<count {
                    let g = (Double(t) + 0.5) / Double(perUnit) - 0.5
                    let p = horizontal ? registration.cameraPosition(g, s) : registration.cameraPosition(s, g)
                    profile[t] = Double(plane.bilinear(p.x, p.y))
                }
                // Remove the slow trend (vignetting, dead modules): a 4-LED moving average.
                let window = 4 * perUnit
                var prefix = [0.0]
                for v in profile { prefix.append(prefix.last! + v) }
                let detrended = (0..<count).map { t -> Double in
                    let lo = max(0, t - window / 2), hi = min(count, t + window / 2)
                    return profile[t] - (prefix[hi] - prefix[lo]) / Double(hi - lo)
                }
                // Powers add across lines, so lines whose phase drifts do not cancel.
                // Welch: powers of 32-LED segments add up, so the peak is ~1/32 wide and a grid
                // search in 0.02 steps cannot step over it (a whole long line's peak is ~1/C wide).
                let segment = 32 * perUnit
                for start in Swift.stride(from: 0, to: count, by: segment) {
                    let piece = Array(detrended[start..<min(count, start + segment)])
                    guard piece.count >= segment / 2 else { continue }
                    let powers = goertzelPowers(piece, cyclesPerSample: frequencies.map { $0 / Double(perUnit) })
                    for index in power.indices { power[index] += powers[index] }
                }
            }
            // Accept when the grid's own frequency carries a fair share of the strongest peak:
            // moire near 3 px per LED and large dead areas add other peaks, but a wrong grid has
            // nothing at 1.
            let strongest = power.indices.max { power[$0] < power[$1] }!
            let nearOne = power.indices.filter { abs(frequencies[$0] - 1) <= 0.12 }.map { power[$0] }.max() ?? 0
            if nearOne < 0.2 * power[strongest] {
                let seen = Int((Double(along) * frequencies[strongest]).rounded())
                throw .gridMismatch("--grid says \(along) \(horizontal ? "columns" : "rows") but the capture shows about \(seen)")
            }
        }
    }

    // MARK: Lattice

    /// Centroid of the LED spot nearest `p`: the window is re-centred on the estimate until it
    /// settles (so the result does not lean toward the prediction), and only samples above 40%
    /// of the window's range count (so neighbours' blur tails do not pull it). nil outside the
    /// frame. The amplitude is the window's range in light.
    @inline(__always)
    static func centroid<P: LinearPlane>(_ plane: P, _ p: Point, half: Int) -> (point: Point, amplitude: Float)? {
        var estimate = p
        var amplitude: Float = 0
        for _ in 0..<3 {
            let cx = Int(estimate.x.rounded()), cy = Int(estimate.y.rounded())
            guard cx - half >= 0, cy - half >= 0, cx + half < plane.width, cy + half < plane.height else { return nil }
            let (sw, sx, sy, range) = plane.spotMoments(cx, cy, half)
            guard sw > 0 else { return nil }
            amplitude = range
            let next = Point(Double(cx) + Double(sx / sw), Double(cy) + Double(sy / sw))
            // Never wander further than half a window from the prediction.
            if abs(next.x - p.x) > Double(half) || abs(next.y - p.y) > Double(half) { return nil }
            let moved = abs(next.x - estimate.x) + abs(next.y - estimate.y)
            estimate = next
            if moved < 0.5 { break }
        }
        return (estimate, amplitude)
    }

    /// Centroids of the lit LEDs in a block of the grid: (grid point, camera centroid).
    static func litCentroids<P: LinearPlane>(_ plane: P, _ registration: Registration,
                                             xs: ClosedRange<Int>, ys: ClosedRange<Int>,
                                             stride: Int = 1) -> [(Point, Point)] {
        let half = max(1, Int(0.5 * registration.pixelsPerLED))
        var found: [(Point, Point, Float)] = []
        for y in Swift.stride(from: ys.lowerBound, through: ys.upperBound, by: stride) {
            for x in Swift.stride(from: xs.lowerBound, through: xs.upperBound, by: stride) {
                let predicted = registration.cameraPosition(Double(x), Double(y))
                if let c = centroid(plane, predicted, half: half) {
                    found.append((Point(Double(x), Double(y)), c.point, c.amplitude))
                }
            }
        }
        guard !found.isEmpty else { return [] }
        let typical = sampledMedian(found.map { Double($0.2) })
        return found.filter { Double($0.2) > 0.4 * typical }.map { ($0.0, $0.1) }
    }

    static func lockLattice<P: LinearPlane>(_ plane: P, _ start: Registration) -> Registration {
        let grid = start.grid
        // Phase lock: the sub-LED offset that puts sample points on LED centres, tried on a few
        // central blocks (one may be a dead module); the block with the clearest peak wins.
        let half = min(6, (grid.cols - 1) / 2, (grid.rows - 1) / 2)
        var best = (contrast: -1.0, du: 0.0, dv: 0.0, cx: grid.cols / 2, cy: grid.rows / 2)
        let steps = 8
        for (fx, fy) in [(0.5, 0.5), (0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7), (0.5, 0.25), (0.5, 0.75)] {
            let cx = Int(Double(grid.cols) * fx), cy = Int(Double(grid.rows) * fy)
            var scores: [(Double, Double, Double)] = []
            for a in 0..<steps {
                for b in 0..<steps {
                    let du = Double(a) / Double(steps) - 0.5, dv = Double(b) / Double(steps) - 0.5
                    var sum = 0.0
                    for y in max(0, cy - half)...min(grid.rows - 1, cy + half) {
                        for x in max(0, cx - half)...min(grid.cols - 1, cx + half) {
                            let p = start.cameraPosition(Double(x) + du, Double(y) + dv)
                            sum += Double(plane.bilinear(p.x, p.y))
                        }
                    }
                    scores.append((sum, du, dv))
                }
            }
            let top = scores.max { $0.0 < $1.0 }!
            let mean = scores.reduce(0) { $0 + $1.0 } / Double(scores.count)
            let contrast = mean > 0 ? top.0 / mean : 0
            if contrast > best.contrast + 0.02 { best = (contrast, top.1, top.2, cx, cy) }
        }
        var registration = Registration(
            grid: grid,
            gridToCamera: start.gridToCamera * Homography([1, 0, best.du, 0, 1, best.dv, 0, 0, 1]), lens: start.lens)
        // Grow the fitted block outward. The outline's homography carries the perspective; each
        // stage fits only a correction in grid units on top of it (affine while the block is
        // small, as a small block cannot fix perspective), and from a large block on also the
        // lens's radial distortion, so predictions for the next ring stay well within half a LED.
        let base = registration.gridToCamera, toGrid = base.inverse
        var lens = start.lens
        var radius = max(4, half)
        while true {
            let xs = max(0, best.cx - radius)...min(grid.cols - 1, best.cx + radius)
            let ys = max(0, best.cy - radius)...min(grid.rows - 1, best.cy + radius)
            let covered = xs.count == grid.cols && ys.count == grid.rows
            let large = min(xs.count, ys.count) >= 32 || covered
            for iteration in 0..<(covered ? 3 : 2) {
                // A few thousand centroids fix the fit; more only cost time.
                let stride = max(1, Int((Double(xs.count * ys.count) / 3000).squareRoot()))
                let pairs = litCentroids(plane, registration, xs: xs, ys: ys, stride: stride)
                guard pairs.count >= 8 else { break }
                if large && iteration == 0 { lens.k = bestRadial(pairs, around: lens, base: toGrid) }
                let inGrid = pairs.map { ($0.0, toGrid.apply(lens.undistort($0.1))) }
                if let correction = fitRejectingOutliers(inGrid, affine: !large) {
                    registration = Registration(grid: grid, gridToCamera: base * correction, lens: lens)
                }
            }
            if covered { break }
            radius = radius * 3 / 2
        }
        return registration
    }

    /// The radial coefficient under which the centroids fit a homography best (a coarse then a
    /// fine search around the current one).
    static func bestRadial(_ pairs: [(Point, Point)], around lens: RadialLens, base toGrid: Homography) -> Double {
        let step = max(1, pairs.count / 500)
        let sample = Swift.stride(from: 0, to: pairs.count, by: step).map { pairs[$0] }
        func cost(_ k: Double) -> Double {
            var candidate = lens
            candidate.k = k
            let inGrid = sample.map { ($0.0, toGrid.apply(candidate.undistort($0.1))) }
            guard let h = Homography.fit(from: inGrid.map(\.0), to: inGrid.map(\.1)) else { return .infinity }
            return inGrid.reduce(0) { sum, pair in
                let p = h.apply(pair.0)
                return sum + min(0.25, (p.x - pair.1.x) * (p.x - pair.1.x) + (p.y - pair.1.y) * (p.y - pair.1.y))
            }
        }
        var best = lens.k
        for spacing in [0.01, 0.002] {
            let centre = best
            var bestCost = cost(centre)
            for n in -4...4 where n != 0 {
                let k = centre + Double(n) * spacing
                let c = cost(k)
                if c < bestCost { bestCost = c; best = k }
            }
        }
        return best
    }

    static func fitRejectingOutliers(_ all: [(Point, Point)], affine: Bool) -> Homography? {
        // Eight parameters need no more than a few thousand well-spread points.
        let every = max(1, all.count / 4000)
        let pairs = every == 1 ? all : Swift.stride(from: 0, to: all.count, by: every).map { all[$0] }
        guard var h = Homography.fit(from: pairs.map(\.0), to: pairs.map(\.1), affineOnly: affine) else { return nil }
        let residuals = pairs.map { pair -> Double in
            let p = h.apply(pair.0)
            return ((p.x - pair.1.x) * (p.x - pair.1.x) + (p.y - pair.1.y) * (p.y - pair.1.y)).squareRoot()
        }
        let limit = max(0.5, 3 * sampledMedian(residuals))
        let kept = zip(pairs, residuals).filter { $0.1 <= limit }.map(\.0)
        if kept.count >= 8, kept.count < pairs.count,
           let refit = Homography.fit(from: kept.map(\.0), to: kept.map(\.1), affineOnly: affine) {
            h = refit
        }
        return h
    }

    /// LED-ness of grid point (x, y): centre minus the mean of its four cell corners (flat
    /// clutter and dark display face give ~0).
    static func contrast<P: LinearPlane>(_ plane: P, _ registration: Registration, _ x: Int, _ y: Int) -> Double {
        let c = registration.cameraPosition(Double(x), Double(y))
        guard c.x >= 0, c.y >= 0, c.x <= Double(plane.width - 1), c.y <= Double(plane.height - 1) else { return 0 }
        var gap = 0.0
        for (dx, dy) in [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)] {
            let p = registration.cameraPosition(Double(x) + dx, Double(y) + dy)
            gap += Double(plane.bilinear(p.x, p.y))
        }
        return Double(plane.bilinear(c.x, c.y)) - gap / 4
    }

    /// The lattice may be locked a whole LED off where edge lines are dead: choose the integer
    /// shift that puts the most LED light inside the grid, and refuse lattices whose lit LEDs
    /// extend beyond the grid.
    static func resolveShift<P: LinearPlane>(_ plane: P, _ registration: Registration) throws(AnalysisError) -> Registration {
        let grid = registration.grid, margin = 3
        func lineScores(horizontal: Bool) -> [Double] {
            let count = horizontal ? grid.cols : grid.rows, across = horizontal ? grid.rows : grid.cols
            let samples = min(across, 64)
            return (-margin..<(count + margin)).map { line in
                var values: [Double] = []
                for k in 0..<samples {
                    let other = Int((Double(k) + 0.5) * Double(across) / Double(samples))
                    values.append(horizontal ? contrast(plane, registration, line, other) : contrast(plane, registration, other, line))
                }
                return values.reduce(0, +) / Double(samples)
            }
        }
        var shift = [0, 0]
        var notes: [String] = []
        for (axis, horizontal) in [true, false].enumerated() {
            let scores = lineScores(horizontal: horizontal)
            let count = horizontal ? grid.cols : grid.rows
            let typical = median(Array(scores[margin..<(margin + count)]))
            guard typical > 0 else { throw .displayNotFound("no LED lattice visible in the bright region") }
            func sum(_ s: Int) -> Double { scores[(margin + s)..<(margin + s + count)].reduce(0, +) }
            // Prefer no shift unless another is clearly better.
            var bestShift = 0
            for s in -margin...margin where sum(s) > sum(bestShift) + 0.02 * typical { bestShift = s }
            // A completely dark edge line looks the same whether it is this grid's first line or
            // a line beyond its last: say so rather than pretend.
            for s in -margin...margin where s != bestShift && sum(s) >= sum(bestShift) - 0.3 * typical {
                let name = horizontal ? "column" : "row"
                notes.append("ambiguous \(name) alignment: a dark \(name) at one edge could be the grid's first or a \(name) beyond its last; positions may be off by \(abs(s - bestShift)) \(name)(s)")
                break
            }
            let outside = scores[0..<(margin + bestShift)] + scores[(margin + bestShift + count)...]
            if let brightest = outside.max(), brightest > 0.5 * typical {
                throw .gridMismatch("lit LEDs continue beyond the \(count) \(horizontal ? "columns" : "rows") of --grid \(grid)")
            }
            shift[axis] = bestShift
        }
        var result = shift == [0, 0] ? registration : registration.shifted(dx: shift[0], dy: shift[1])
        result.warnings = notes
        return result
    }

    /// Final fit on all lit LEDs, then a block-wise median of the residuals as a smooth local
    /// correction (barrel distortion, module seams).
    static func refineField<P: LinearPlane>(_ plane: P, _ start: Registration) -> Registration {
        let grid = start.grid
        var registration = start
        let block = 8
        let fieldCols = (grid.cols + block - 1) / block, fieldRows = (grid.rows + block - 1) / block
        for _ in 0..<2 {
            // Every other LED on big grids still leaves ~16 per 8x8 block of the field.
            let pairs = litCentroids(plane, registration, xs: 0...(grid.cols - 1), ys: 0...(grid.rows - 1),
                                     stride: grid.count > 20000 ? 2 : 1)
            let lens = registration.lens
            guard pairs.count >= 8,
                  let h = fitRejectingOutliers(pairs.map { ($0.0, lens.undistort($0.1)) }, affine: false) else { return registration }
            var residuals = pairs.map { g, c in
                let p = lens.distort(h.apply(g))
                return (g, Point(c.x - p.x, c.y - p.y))
            }
            // Line offsets first (seams), then the smooth field on what is left.
            let columnShift = lineMedians(residuals, count: grid.cols) { Int($0.x) }
            for i in residuals.indices {
                let s = columnShift[Int(residuals[i].0.x)]
                residuals[i].1 = Point(residuals[i].1.x - s.x, residuals[i].1.y - s.y)
            }
            let rowShift = lineMedians(residuals, count: grid.rows) { Int($0.y) }
            var dxs = [[Double]](repeating: [], count: fieldCols * fieldRows)
            var dys = [[Double]](repeating: [], count: fieldCols * fieldRows)
            for (g, d) in residuals {
                let s = rowShift[Int(g.y)]
                let b = (Int(g.y) / block) * fieldCols + Int(g.x) / block
                dxs[b].append(d.x - s.x)
                dys[b].append(d.y - s.y)
            }
            var fx = [Double](repeating: 0, count: dxs.count), fy = fx
            var valid = [Bool](repeating: false, count: dxs.count)
            for b in 0..<dxs.count where dxs[b].count >= 4 {
                fx[b] = median(dxs[b]); fy[b] = median(dys[b]); valid[b] = true
            }
            fillInvalid(&fx, &fy, &valid, cols: fieldCols, rows: fieldRows)
            let warnings = registration.warnings
            registration = Registration(grid: grid, gridToCamera: h, lens: lens, blockSize: block, fieldCols: fieldCols,
                                        fieldRows: fieldRows, fieldX: fx, fieldY: fy,
                                        columnShift: columnShift, rowShift: rowShift)
            registration.warnings = warnings
        }
        return registration
    }

    /// Median residual of each LED line (column or row); a line with fewer than 3 lit LEDs
    /// (dead, or skipped by a sampling stride) takes its nearest measured neighbour's,
    /// preferring the one before it (seams start modules, so line 2k+1 shares line 2k's side).
    static func lineMedians(_ residuals: [(Point, Point)], count: Int, line: (Point) -> Int) -> [Point] {
        var xs = [[Double]](repeating: [], count: count), ys = xs
        for (g, d) in residuals {
            let i = line(g)
            guard i >= 0, i < count else { continue }
            xs[i].append(d.x)
            ys[i].append(d.y)
        }
        let measured = (0..<count).filter { xs[$0].count >= 3 }
        guard !measured.isEmpty else { return [Point](repeating: Point(0, 0), count: count) }
        var shifts = [Point?](repeating: nil, count: count)
        for i in measured { shifts[i] = Point(median(xs[i]), median(ys[i])) }
        return (0..<count).map { i in
            if let s = shifts[i] { return s }
            let nearest = measured.min { abs($0 - i) + ($0 > i ? 1 : 0) < abs($1 - i) + ($1 > i ? 1 : 0) }!
            return shifts[nearest]!
        }
    }

    /// Blocks without measurements (dead modules) take the mean of valid neighbours, spreading
    /// outward until every block has a value.
    static func fillInvalid(_ a: inout [Double], _ b: inout [Double], _ valid: inout [Bool], cols: Int, rows: Int) {
        guard valid.contains(true) else { return }
        while valid.contains(false) {
            var next = valid
            for y in 0..<rows {
                for x in 0..<cols where !valid[y * cols + x] {
                    var sa = 0.0, sb = 0.0, n = 0.0
                    for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                    where nx >= 0 && ny >= 0 && nx < cols && ny < rows && valid[ny * cols + nx] {
                        sa += a[ny * cols + nx]; sb += b[ny * cols + nx]; n += 1
                    }
                    if n > 0 { a[y * cols + x] = sa / n; b[y * cols + x] = sb / n; next[y * cols + x] = true }
                }
            }
            valid = next
        }
    }
}

/// Power of each frequency in a real signal (Goertzel: one multiply-add per sample, no
/// sin/cos). Four frequencies share one pass: each recurrence is a serial chain of dependent
/// multiply-adds, so one at a time leaves the FPU waiting on latency; four independent lanes
/// fill it. Every lane does exactly the scalar arithmetic, so results are bit-identical.
func goertzelPowers(_ signal: [Double], cyclesPerSample: [Double]) -> [Double] {
    var powers: [Double] = []
    powers.reserveCapacity(cyclesPerSample.count)
    for first in Swift.stride(from: 0, to: cyclesPerSample.count, by: 4) {
        var coefficient = SIMD4<Double>(repeating: 0)
        for lane in 0..<min(4, cyclesPerSample.count - first) {
            coefficient[lane] = 2 * cos(2 * Double.pi * cyclesPerSample[first + lane])
        }
        var s1 = SIMD4<Double>(repeating: 0), s2 = SIMD4<Double>(repeating: 0)
        for v in signal {
            let s0 = SIMD4(repeating: v) + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        for lane in 0..<min(4, cyclesPerSample.count - first) {
            powers.append(s1[lane] * s1[lane] + s2[lane] * s2[lane] - coefficient[lane] * s1[lane] * s2[lane])
        }
    }
    return powers
}

/// The median of at most ~2000 evenly spaced values: plenty for thresholds, and no full sort.
func sampledMedian(_ values: [Double]) -> Double {
    let every = max(1, values.count / 2000)
    return median(every == 1 ? values : Swift.stride(from: 0, to: values.count, by: every).map { values[$0] })
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    var v = values
    let mid = v.count / 2
    v.sort()
    return v.count % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

func otsu(_ values: [Float]) -> Float {
    let top = values.max() ?? 0
    guard top > 0 else { return 0 }
    let bins = 256
    var histogram = [Double](repeating: 0, count: bins)
    for v in values { histogram[min(bins - 1, Int(v / top * Float(bins - 1)))] += 1 }
    let total = Double(values.count)
    var sumAll = 0.0
    for i in 0..<bins { sumAll += Double(i) * histogram[i] }
    var weightBelow = 0.0, sumBelow = 0.0, best = 0.0, threshold = 0
    for i in 0..<bins {
        weightBelow += histogram[i]
        if weightBelow == 0 { continue }
        let weightAbove = total - weightBelow
        if weightAbove == 0 { break }
        sumBelow += Double(i) * histogram[i]
        let meanBelow = sumBelow / weightBelow, meanAbove = (sumAll - sumBelow) / weightAbove
        let between = weightBelow * weightAbove * (meanBelow - meanAbove) * (meanBelow - meanAbove)
        if between > best { best = between; threshold = i }
    }
    return (Float(threshold) + 0.5) / Float(bins - 1) * top
}

/// Separable grey dilation (maximum) or erosion (minimum) over a square of side 2*radius+1.
/// Unchecked buffers (every index is clamped to the frame) and the choice made once outside
/// the loops: four of these run per capture over the reduced frame.
func morphology(_ values: [Float], width: Int, height: Int, radius: Int, maximum: Bool) -> [Float] {
    maximum ? morphology(values, width: width, height: height, radius: radius, max)
            : morphology(values, width: width, height: height, radius: radius, min)
}

@inline(__always)
private func morphology(_ values: [Float], width: Int, height: Int, radius: Int,
                        _ pick: (Float, Float) -> Float) -> [Float] {
    var horizontal = values
    values.withUnsafeBufferPointer { values in
        horizontal.withUnsafeMutableBufferPointer { horizontal in
            for y in 0..<height {
                let row = y &* width
                for x in 0..<width {
                    var v = values[row &+ x]
                    for k in max(0, x &- radius)...min(width &- 1, x &+ radius) { v = pick(v, values[row &+ k]) }
                    horizontal[row &+ x] = v
                }
            }
        }
    }
    var out = horizontal
    horizontal.withUnsafeBufferPointer { horizontal in
        out.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                for x in 0..<width {
                    var v = horizontal[y &* width &+ x]
                    for k in max(0, y &- radius)...min(height &- 1, y &+ radius) { v = pick(v, horizontal[k &* width &+ x]) }
                    out[y &* width &+ x] = v
                }
            }
        }
    }
    return out
}
