import Foundation

/// A point in LED-grid units or camera pixels.
public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// A projective map of the plane (row-major 3x3, h[8] normalised to 1 where possible).
public struct Homography: Sendable, Equatable {
    public var m: [Double]

    public init(_ m: [Double]) {
        precondition(m.count == 9)
        self.m = m
    }

    public static let identity = Homography([1, 0, 0, 0, 1, 0, 0, 0, 1])

    public func apply(_ p: Point) -> Point {
        // Every projected LED position comes through here: one count check, not nine.
        precondition(m.count == 9)
        return m.withUnsafeBufferPointer { m in
            let w = m[6] * p.x + m[7] * p.y + m[8]
            return Point((m[0] * p.x + m[1] * p.y + m[2]) / w, (m[3] * p.x + m[4] * p.y + m[5]) / w)
        }
    }

    public var inverse: Homography {
        let a = m
        let c0 = a[4] * a[8] - a[5] * a[7], c1 = a[5] * a[6] - a[3] * a[8], c2 = a[3] * a[7] - a[4] * a[6]
        let det = a[0] * c0 + a[1] * c1 + a[2] * c2
        let inv = [c0, a[2] * a[7] - a[1] * a[8], a[1] * a[5] - a[2] * a[4],
                   c1, a[0] * a[8] - a[2] * a[6], a[2] * a[3] - a[0] * a[5],
                   c2, a[1] * a[6] - a[0] * a[7], a[0] * a[4] - a[1] * a[3]].map { $0 / det }
        return Homography(inv)
    }

    public static func * (l: Homography, r: Homography) -> Homography {
        var out = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { out[i * 3 + j] += l.m[i * 3 + k] * r.m[k * 3 + j] } } }
        return Homography(out)
    }

    /// Local scale at `p`: camera pixels per unit step along x and along y.
    public func pitch(at p: Point) -> (x: Double, y: Double) {
        let o = apply(p), dx = apply(Point(p.x + 1, p.y)), dy = apply(Point(p.x, p.y + 1))
        return (((dx.x - o.x) * (dx.x - o.x) + (dx.y - o.y) * (dx.y - o.y)).squareRoot(),
                ((dy.x - o.x) * (dy.x - o.x) + (dy.y - o.y) * (dy.y - o.y)).squareRoot())
    }

    /// Least-squares fit mapping `from` onto `to` (normalised DLT with h[8] = 1; an affine
    /// map when `affineOnly`, which is better conditioned for small patches). nil if degenerate.
    public static func fit(from: [Point], to: [Point], weights: [Double]? = nil,
                           affineOnly: Bool = false) -> Homography? {
        let n = from.count
        guard n >= (affineOnly ? 3 : 4), to.count == n else { return nil }
        let nf = normaliser(from), nt = normaliser(to)
        let unknowns = affineOnly ? 6 : 8
        var ata = [Double](repeating: 0, count: unknowns * unknowns)
        var atb = [Double](repeating: 0, count: unknowns)
        // Normal equations of up to a few thousand points; this loop dominated registration's
        // fits. Unchecked access to the three small buffers (sizes fixed above) lets the
        // column loop vectorise; the arithmetic and its order are those of the plain loop.
        ata.withUnsafeMutableBufferPointer { ata in
            atb.withUnsafeMutableBufferPointer { atb in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: unknowns) { row in
                    for i in 0..<n {
                        let a = nf.apply(from[i]), b = nt.apply(to[i])
                        let w = weights?[i] ?? 1
                        for equation in 0..<2 {
                            for k in 0..<unknowns { row[k] = 0 }
                            let target = equation == 0 ? b.x : b.y
                            let offset = equation * 3
                            row[offset] = a.x
                            row[offset + 1] = a.y
                            row[offset + 2] = 1
                            if !affineOnly {
                                row[6] = -a.x * target
                                row[7] = -a.y * target
                            }
                            for r in 0..<unknowns where row[r] != 0 {
                                atb[r] += w * row[r] * target
                                let scaled = w * row[r]
                                for c in 0..<unknowns { ata[r &* unknowns &+ c] += scaled * row[c] }
                            }
                        }
                    }
                }
            }
        }
        guard let h = solve(ata, atb, size: unknowns) else { return nil }
        let normalised = Homography([h[0], h[1], h[2], h[3], h[4], h[5],
                                     affineOnly ? 0 : h[6], affineOnly ? 0 : h[7], 1])
        return nt.inverse * normalised * nf
    }

    /// The map taking the unit square's corners (0,0),(1,0),(1,1),(0,1) to `corners`.
    public static func fromSquare(to corners: [Point]) -> Homography? {
        fit(from: [Point(0, 0), Point(1, 0), Point(1, 1), Point(0, 1)], to: corners)
    }

    private static func normaliser(_ points: [Point]) -> Homography {
        var cx = 0.0, cy = 0.0
        for p in points { cx += p.x; cy += p.y }
        cx /= Double(points.count); cy /= Double(points.count)
        var spread = 0.0
        for p in points { spread += ((p.x - cx) * (p.x - cx) + (p.y - cy) * (p.y - cy)).squareRoot() }
        let s = spread > 0 ? Double(points.count) * 2.0.squareRoot() / spread : 1
        return Homography([s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1])
    }
}

/// Solves a small dense linear system by Gaussian elimination with partial pivoting.
func solve(_ matrix: [Double], _ rhs: [Double], size n: Int) -> [Double]? {
    var a = matrix, b = rhs
    for col in 0..<n {
        var pivot = col
        for r in col + 1..<n where abs(a[r * n + col]) > abs(a[pivot * n + col]) { pivot = r }
        guard abs(a[pivot * n + col]) > 1e-12 else { return nil }
        if pivot != col {
            for c in 0..<n { a.swapAt(col * n + c, pivot * n + c) }
            b.swapAt(col, pivot)
        }
        for r in col + 1..<n {
            let f = a[r * n + col] / a[col * n + col]
            if f == 0 { continue }
            for c in col..<n { a[r * n + c] -= f * a[col * n + c] }
            b[r] -= f * b[col]
        }
    }
    var x = [Double](repeating: 0, count: n)
    for r in stride(from: n - 1, through: 0, by: -1) {
        var s = b[r]
        for c in r + 1..<n { s -= a[r * n + c] * x[c] }
        x[r] = s / a[r * n + r]
    }
    return x
}

/// A seeded, reproducible random source (SplitMix64).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        Double.random(in: range, using: &self)
    }
    /// Standard normal deviate (Box-Muller).
    public mutating func gaussian() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne...1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
