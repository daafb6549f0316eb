import Foundation

/// An independent check of a finished registration before any LED is classified: a lattice that
/// sits between the LEDs somewhere turns healthy LEDs into "dead" and "dim" ones, and those
/// would open warranty cases. Per block of the grid, the light is sampled at a 4x4 grid of
/// sub-LED offsets and the phase of its first harmonic (one cycle per LED) says where the LED
/// peaks lie relative to the predicted centres. On a right lattice that phase is ~0 in every
/// block; a block whose peaks lie more than a third of an LED away is misregistered (a uniformly blurred
/// capture weakens the harmonic everywhere alike but leaves its phase). Dark blocks (dead
/// modules, dead lines) carry no phase and are skipped, so real defects never trip the check.
enum RegistrationCheck {
    /// Side of a checked block, in LEDs.
    static let block = 8
    /// A block is misregistered when its LED peaks lie at least this far (LEDs) from the lattice.
    static let maxOffset = 0.35

    struct BlockPhase {
        let bx: Int, by: Int
        /// Where the LED peaks lie relative to the predicted centres, LEDs, in (-0.5, 0.5].
        let dx: Double, dy: Double
        /// First-harmonic amplitude over mean light (weaker axis).
        let modulation: Double
        let light: Double
    }

    static func phases<P: LinearPlane>(_ plane: P, _ registration: Registration) -> [BlockPhase] {
        let grid = registration.grid
        let steps = 4
        let offsets = (0..<steps).map { Double($0) / Double(steps) - 0.5 }
        var result: [BlockPhase] = []
        for by in stride(from: 0, to: grid.rows, by: block) {
            for bx in stride(from: 0, to: grid.cols, by: block) {
                var sums = [Double](repeating: 0, count: steps * steps)
                for y in by..<min(grid.rows, by + block) {
                    for x in bx..<min(grid.cols, bx + block) {
                        for b in 0..<steps {
                            for a in 0..<steps {
                                let p = registration.cameraPosition(Double(x) + offsets[a], Double(y) + offsets[b])
                                guard p.x >= 0, p.y >= 0, p.x <= Double(plane.width - 1), p.y <= Double(plane.height - 1) else { continue }
                                sums[b * steps + a] += Double(plane.bilinear(p.x, p.y))
                            }
                        }
                    }
                }
                func harmonic(_ along: (Int) -> Double) -> (phase: Double, amplitude: Double) {
                    var c = 0.0, s = 0.0
                    for k in 0..<steps {
                        let angle = 2 * Double.pi * offsets[k]
                        c += along(k) * cos(angle)
                        s += along(k) * sin(angle)
                    }
                    return (atan2(s, c) / (2 * Double.pi), (c * c + s * s).squareRoot() * 2 / Double(steps))
                }
                let total = sums.reduce(0, +)
                guard total > 0 else { continue }
                let mean = total / Double(steps * steps)
                let hx = harmonic { a in (0..<steps).reduce(0) { $0 + sums[$1 * steps + a] } / Double(steps) }
                let hy = harmonic { b in (0..<steps).reduce(0) { $0 + sums[b * steps + $1] } / Double(steps) }
                result.append(BlockPhase(bx: bx, by: by, dx: hx.phase, dy: hy.phase,
                                         modulation: min(hx.amplitude, hy.amplitude) / mean, light: mean))
            }
        }
        return result
    }

    /// nil when the lattice sits on the LEDs everywhere it can be judged; otherwise why not.
    static func problem<P: LinearPlane>(_ plane: P, _ registration: Registration) -> String? {
        let all = phases(plane, registration)
        let typicalLight = median(all.map(\.light))
        // Blocks lit like the display; dead modules and dead lines are darker and not judged.
        let lit = all.filter { $0.light > 0.3 * typicalLight }
        guard !lit.isEmpty else { return "no lit block of the display" }
        // Judge the phase where the block shows the lattice about as clearly as the display does
        // (blur at 3-4 pixels per LED weakens it everywhere alike; a dead LED or a seam locally).
        let typicalModulation = median(lit.map(\.modulation))
        let judged = lit.filter { $0.modulation >= max(0.003, 0.3 * typicalModulation) }
        let off = judged.filter { max(abs($0.dx), abs($0.dy)) >= maxOffset }
        guard off.count > max(2, judged.count / 50) else { return litLineBeyondGrid(plane, registration) }
        return String(format: "the fitted LED lattice misses the LEDs in %d of %d %dx%d-LED blocks (their LEDs lie %.2f LED or more from the fitted centres)",
                      off.count, judged.count, block, block, maxOffset)
    }

    /// The lines just beyond the grid's edges must be dark: lit LEDs there mean the lattice is
    /// shifted by whole LEDs (every position would be off).
    static func litLineBeyondGrid<P: LinearPlane>(_ plane: P, _ registration: Registration) -> String? {
        let grid = registration.grid, margin = 3, samples = 64
        for horizontal in [true, false] {
            let count = horizontal ? grid.cols : grid.rows, across = horizontal ? grid.rows : grid.cols
            func score(_ line: Int) -> Double {
                var sum = 0.0
                for k in 0..<min(across, samples) {
                    let other = Int((Double(k) + 0.5) * Double(across) / Double(min(across, samples)))
                    sum += horizontal ? Registrar.contrast(plane, registration, line, other)
                                      : Registrar.contrast(plane, registration, other, line)
                }
                return sum / Double(min(across, samples))
            }
            let inside = Swift.stride(from: 0, to: count, by: max(1, count / 32)).map(score)
            let typical = median(inside)
            guard typical > 0 else { return "no LED lattice visible at the fitted positions" }
            let beyond = Array(-margin..<0) + Array(count..<(count + margin))
            if let line = beyond.first(where: { score($0) > 0.5 * typical }) {
                let name = horizontal ? "column" : "row"
                return "lit LEDs at \(name) \(line), beyond the grid's \(count) \(name)s: the fitted lattice is shifted by whole LEDs"
            }
        }
        return nil
    }
}

extension MeasurementPlane {
    /// Why `registration` cannot be trusted on this plane, or nil.
    func registrationProblem(_ registration: Registration) -> String? {
        withView({ RegistrationCheck.problem($0, registration) }, { RegistrationCheck.problem($0, registration) })
    }
}
