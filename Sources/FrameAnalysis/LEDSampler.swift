import Foundation

/// Measures each LED at its projected position and the level it should have there.
enum LEDSampler {
    /// Per-LED light: a Gaussian-weighted mean around the LED's centre (sigma ~ a fifth of the
    /// pitch, so neighbours' blur spill counts little), row-major.
    static func measure<P: LinearPlane>(_ plane: P, _ registration: Registration) -> [Float] {
        let grid = registration.grid
        let sigma = max(0.6, 0.2 * registration.pixelsPerLED)
        let radius = max(1, Int((2 * sigma).rounded(.up)))
        let span = 2 * radius + 1
        var levels = [Float](repeating: 0, count: grid.count)
        var wx = [Float](repeating: 0, count: span), wy = wx
        let inverse = 1 / (2 * sigma * sigma)
        for y in 0..<grid.rows {
            for x in 0..<grid.cols {
                let p = registration.cameraPosition(Double(x), Double(y))
                let cx = Int(p.x.rounded()), cy = Int(p.y.rounded())
                guard cx - radius >= 0, cy - radius >= 0, cx + radius < plane.width, cy + radius < plane.height else {
                    levels[y * grid.cols + x] = 0
                    continue
                }
                for k in 0..<span {
                    let dx = Double(cx - radius + k) - p.x, dy = Double(cy - radius + k) - p.y
                    wx[k] = Float(exp(-dx * dx * inverse))
                    wy[k] = Float(exp(-dy * dy * inverse))
                }
                var sum: Float = 0, weight: Float = 0
                for j in 0..<span {
                    var rowSum: Float = 0, rowWeight: Float = 0
                    let yy = cy - radius + j
                    for k in 0..<span {
                        rowSum += wx[k] * plane.value(cx &- radius &+ k, yy)
                        rowWeight += wx[k]
                    }
                    sum += wy[j] * rowSum
                    weight += wy[j] * rowWeight
                }
                levels[y * grid.cols + x] = sum / weight
            }
        }
        return levels
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
                    let healthy = values.filter { $0 > 0.5 * p90 }
                    if p90 > 0, healthy.count >= max(3, values.count / 4) {
                        field[by * cols + bx] = median(healthy)
                        valid[by * cols + bx] = true
                    }
                } else {
                    field[by * cols + bx] = median(values)
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
