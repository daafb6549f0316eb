import Foundation

/// Measures each LED at its projected position and the level it should have there.
enum LEDSampler {
    /// Per-LED light: a Gaussian-weighted mean around the LED's centre (sigma ~ a fifth of the
    /// pitch, so neighbours' blur spill counts little), row-major.
    static func measure<P: LinearPlane>(_ plane: P, _ registration: Registration) -> [Float] {
        let grid = registration.grid
        let window = SampleWindow(pixelsPerLED: registration.pixelsPerLED)
        var levels = [Float](repeating: 0, count: grid.count)
        for y in 0..<grid.rows {
            for x in 0..<grid.cols {
                levels[y * grid.cols + x] = window.mean(plane, registration.cameraPosition(Double(x), Double(y)))
            }
        }
        return levels
    }

    /// The camera shift (in LEDs) between the registration and this capture, measured on the
    /// LEDs at `indices` (the stuck candidates of a black capture): for each, the offset within
    /// half an LED where its light peaks; the median over all of them. Off LEDs carry no light
    /// to register on, so only the lit few can tell.
    static func shift<P: LinearPlane>(_ plane: P, _ registration: Registration, at indices: [Int]) -> (dx: Double, dy: Double) {
        guard !indices.isEmpty else { return (0, 0) }
        let window = SampleWindow(pixelsPerLED: registration.pixelsPerLED)
        let steps = (-4...4).map { Double($0) * 0.125 }
        var dxs: [Double] = [], dys: [Double] = []
        for index in indices.prefix(200) {
            let x = Double(index % registration.grid.cols), y = Double(index / registration.grid.cols)
            var best = (level: -Float.infinity, dx: 0.0, dy: 0.0)
            for dy in steps {
                for dx in steps {
                    let level = window.mean(plane, registration.cameraPosition(x + dx, y + dy))
                    if level > best.level { best = (level, dx, dy) }
                }
            }
            dxs.append(best.dx)
            dys.append(best.dy)
        }
        return (median(dxs), median(dys))
    }

    /// Removes neighbours' blur spill from lit-pattern levels. At 3-4 camera pixels per LED a
    /// dead LED between lit ones still reads 30-60% of a healthy one. The spill is measured on
    /// the capture itself: the ratio of the light half-way between two lit neighbours to the
    /// light at their centres fixes the width of a Gaussian spot; then a few Jacobi steps solve
    /// level = own light + spill from the 8 neighbours.
    static func removeCrosstalk<P: LinearPlane>(_ plane: P, _ registration: Registration, levels: [Float]) -> [Float] {
        let grid = registration.grid
        guard grid.cols >= 4, grid.rows >= 4 else { return levels }
        let window = SampleWindow(pixelsPerLED: registration.pixelsPerLED)
        let typical = sampledMedian(levels.map(Double.init))
        var ratios: [Double] = []
        let step = max(1, grid.count / 3000)
        for index in Swift.stride(from: 0, to: grid.count, by: step) {
            let x = index % grid.cols, y = index / grid.cols
            guard x + 1 < grid.cols else { continue }
            let a = Double(levels[index]), b = Double(levels[index + 1])
            guard a > 0.7 * typical, b > 0.7 * typical, abs(a - b) < 0.25 * max(a, b) else { continue }
            let gap = Double(window.mean(plane, registration.cameraPosition(Double(x) + 0.5, Double(y))))
            ratios.append(gap / ((a + b) / 2))
        }
        guard ratios.count >= 20 else { return levels }
        let ratio = median(ratios)
        func latticeRatio(_ sigma: Double) -> Double {
            var centre = 0.0, half = 0.0
            for i in -4...4 {
                centre += exp(-Double(i * i) / (2 * sigma * sigma))
                half += exp(-(Double(i) + 0.5) * (Double(i) + 0.5) / (2 * sigma * sigma))
            }
            return half / centre
        }
        var low = 0.05, high = 1.5
        guard ratio > latticeRatio(low), ratio < latticeRatio(high) else { return levels }
        for _ in 0..<40 {
            let mid = (low + high) / 2
            if latticeRatio(mid) < ratio { low = mid } else { high = mid }
        }
        let sigma = (low + high) / 2
        let side = Float(exp(-1 / (2 * sigma * sigma))), diagonal = Float(exp(-1 / (sigma * sigma)))
        // Only a modest spill is safely invertible; beyond that the lattice is not resolved.
        guard 4 * (side + diagonal) > 0.02, 4 * (side + diagonal) < 0.8 else { return levels }
        var own = levels
        var next = levels
        let cols = grid.cols, rows = grid.rows
        for _ in 0..<6 {
            // Unchecked buffers (every index is tested against the grid or lies inside it);
            // interior LEDs, all but the border, skip the eight edge tests. Neighbours are
            // summed in the same order either way.
            levels.withUnsafeBufferPointer { levels in
                own.withUnsafeBufferPointer { own in
                    next.withUnsafeMutableBufferPointer { next in
                        for y in 0..<rows {
                            for x in 0..<cols {
                                let i = y &* cols &+ x
                                var spill: Float = 0
                                if x > 0, y > 0, x < cols &- 1, y < rows &- 1 {
                                    let above = i &- cols, below = i &+ cols
                                    spill += diagonal * own[above &- 1]
                                    spill += side * own[above]
                                    spill += diagonal * own[above &+ 1]
                                    spill += side * own[i &- 1]
                                    spill += side * own[i &+ 1]
                                    spill += diagonal * own[below &- 1]
                                    spill += side * own[below]
                                    spill += diagonal * own[below &+ 1]
                                } else {
                                    for dy in -1...1 {
                                        for dx in -1...1 where dx != 0 || dy != 0 {
                                            let nx = x + dx, ny = y + dy
                                            guard nx >= 0, ny >= 0, nx < cols, ny < rows else { continue }
                                            spill += (dx == 0 || dy == 0 ? side : diagonal) * own[ny &* cols &+ nx]
                                        }
                                    }
                                }
                                next[i] = max(0, levels[i] - spill)
                            }
                        }
                    }
                }
            }
            swap(&own, &next)
        }
        return own
    }

    /// The level each LED is expected to have: per block of 8x8 LEDs the median of the healthy
    /// ones (those above half the block's 90th percentile, so dead and dim LEDs do not pull it
    /// down), blocks with too few healthy LEDs filled from their neighbours, then bilinear
    /// interpolation between block centres. Follows vignetting and exposure gradients.
    static func expectedLevels(_ levels: [Float], grid: LEDGrid, block: Int = 8,
                               healthyOnly: Bool = true) -> [Float] {
        let cols = (grid.cols + block - 1) / block, rows = (grid.rows + block - 1) / block
        var field = [Double](repeating: 0, count: cols * rows), unused = field
        var valid = [Bool](repeating: false, count: cols * rows)
        for by in 0..<rows {
            for bx in 0..<cols {
                var values: [Double] = []
                for y in by * block..<min(grid.rows, (by + 1) * block) {
                    for x in bx * block..<min(grid.cols, (bx + 1) * block) { values.append(Double(levels[y * grid.cols + x])) }
                }
                values.sort()
                if healthyOnly {
                    let p90 = values[min(values.count - 1, values.count * 9 / 10)]
                    // Sorted already: the healthy LEDs are a suffix.
                    let first = values.firstIndex { $0 > 0.5 * p90 } ?? values.count
                    let healthyCount = values.count - first
                    if p90 > 0, healthyCount >= max(3, values.count / 4) {
                        let mid = first + healthyCount / 2
                        field[by * cols + bx] = healthyCount % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2
                        valid[by * cols + bx] = true
                    }
                } else {
                    let mid = values.count / 2
                    field[by * cols + bx] = values.count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2
                    valid[by * cols + bx] = true
                }
            }
        }
        if healthyOnly {
            // A block far darker than the display as a whole is a dead or dim region, not
            // vignetting: its level comes from its neighbours instead.
            let overall = median(zip(field, valid).filter { $0.1 }.map { $0.0 })
            for b in 0..<field.count where field[b] < 0.6 * overall { valid[b] = false }
        }
        Registrar.fillInvalid(&field, &unused, &valid, cols: cols, rows: rows)
        var expected = [Float](repeating: 0, count: grid.count)
        for y in 0..<grid.rows {
            let fy = min(max((Double(y) + 0.5) / Double(block) - 0.5, 0), Double(rows - 1))
            let y0 = min(Int(fy), max(0, rows - 2)), y1 = min(y0 + 1, rows - 1), ty = fy - Double(y0)
            for x in 0..<grid.cols {
                let fx = min(max((Double(x) + 0.5) / Double(block) - 0.5, 0), Double(cols - 1))
                let x0 = min(Int(fx), max(0, cols - 2)), x1 = min(x0 + 1, cols - 1), tx = fx - Double(x0)
                let top = field[y0 * cols + x0] * (1 - tx) + field[y0 * cols + x1] * tx
                let bottom = field[y1 * cols + x0] * (1 - tx) + field[y1 * cols + x1] * tx
                expected[y * grid.cols + x] = Float(top * (1 - ty) + bottom * ty)
            }
        }
        return expected
    }
}

/// A Gaussian sampling window about a fifth of the LED pitch wide, so neighbours' blur spill
/// counts little.
struct SampleWindow {
    let sigma: Double
    let radius: Int

    init(pixelsPerLED: Double) {
        sigma = max(0.6, 0.2 * pixelsPerLED)
        radius = max(1, Int((2 * sigma).rounded(.up)))
    }

    /// Weighted mean of the light around `p` (0 when the window leaves the frame).
    @inline(__always)
    func mean<P: LinearPlane>(_ plane: P, _ p: Point) -> Float {
        let cx = Int(p.x.rounded()), cy = Int(p.y.rounded())
        guard cx - radius >= 0, cy - radius >= 0, cx + radius < plane.width, cy + radius < plane.height else { return 0 }
        let inverse = 1 / (2 * sigma * sigma)
        let span = 2 * radius + 1
        // Weights on the stack: this runs once per LED, a heap array each time would dominate.
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * span) { weights in
            for k in 0..<span {
                let dx = Double(cx - radius + k) - p.x, dy = Double(cy - radius + k) - p.y
                weights[k] = Float(exp(-dx * dx * inverse))
                weights[span + k] = Float(exp(-dy * dy * inverse))
            }
            var sum: Float = 0, weight: Float = 0
            for j in 0..<span {
                var rowSum: Float = 0, rowWeight: Float = 0
                let y = cy &- radius &+ j
                for k in 0..<span {
                    rowSum += weights[k] * plane.value(cx &- radius &+ k, y)
                    rowWeight += weights[k]
                }
                sum += weights[span + j] * rowSum
                weight += weights[span + j] * rowWeight
            }
            return sum / weight
        }
    }
}
