/// How capture values map to light.
public enum Response: String, Sendable, CaseIterable, Codable {
    /// Values are proportional to light (raw, PGM/PPM, PNG by default).
    case linear
    /// Values are sRGB-encoded (JPEG from phones and webcams).
    case srgb

    /// The default for a file format: sRGB for JPEG, linear otherwise.
    public static func `default`(for format: ImageFileFormat) -> Response {
        format == .jpeg ? .srgb : .linear
    }

    /// Linear light (0...1) for every value the sample type can hold (256 or 65536 entries),
    /// so a file whose samples exceed its declared maxval cannot index past the table; such
    /// values count as full scale.
    func table(maxValue: Int) -> [Float] {
        let entries = maxValue < 256 ? 256 : 65536
        return (0..<entries).map { value in
            let encoded = min(1, Double(value) / Double(maxValue))
            return Float(self == .linear ? encoded : srgbDecode(encoded))
        }
    }
}

/// Linear-light values of one plane of a capture, read in place (no full-frame float copy).
protocol LinearPlane {
    var width: Int { get }
    var height: Int { get }
    func value(_ x: Int, _ y: Int) -> Float
    /// The brightest light in each `factor` x `factor` block, row-major, `width / factor` by
    /// `height / factor` blocks (partial blocks at the right and bottom edge left out).
    func blockMaxima(factor: Int) -> [Float]
    /// Over the square window of half-size `half` at (cx, cy): the sum of sample excess over
    /// 40% of the window's range, its first moments about the centre, and the range in light.
    func spotMoments(_ cx: Int, _ cy: Int, _ half: Int) -> (weight: Float, x: Float, y: Float, range: Float)
}

/// Raw samples plus a value-to-light table. Unsafe pointers are confined to this view, which
/// only exists inside `MeasurementPlane.withView`.
struct PlaneView<Sample: FixedWidthInteger & UnsignedInteger>: LinearPlane {
    let base: UnsafePointer<Sample>
    let width: Int
    let height: Int
    let table: UnsafePointer<Float>

    @inline(__always)
    func value(_ x: Int, _ y: Int) -> Float {
        table[Int(truncatingIfNeeded: base[y &* width &+ x])]
    }

    /// Compares raw samples (the table is monotonic) and converts once per block. Each band
    /// of `factor` rows is first reduced to one row of column maxima (contiguous, vectorised),
    /// then each block's columns; the frame's one full pass costs about a plain read.
    func blockMaxima(factor: Int) -> [Float] {
        let w = width / factor, h = height / factor
        var result = [Float](repeating: 0, count: w * h)
        withUnsafeTemporaryAllocation(of: Sample.self, capacity: w * factor) { columns in
            for by in 0..<h {
                let band = base + by &* factor &* width
                for x in 0..<(w &* factor) { columns[x] = band[x] }
                for j in 1..<max(1, factor) {
                    let row = band + j &* width
                    for x in 0..<(w &* factor) { columns[x] = max(columns[x], row[x]) }
                }
                for bx in 0..<w {
                    var top: Sample = 0
                    for x in (bx &* factor)..<((bx &+ 1) &* factor) { top = max(top, columns[x]) }
                    result[by &* w &+ bx] = table[Int(truncatingIfNeeded: top)]
                }
            }
        }
        return result
    }

    /// On raw integer samples (the table is monotonic and the centroid only needs a
    /// threshold): integer adds in the inner loops, no table lookups. This is the hottest loop
    /// of registration. The loops count 0..<span with wrapping index arithmetic: a ClosedRange
    /// loop checks every increment for overflow, which kept the min/max pass scalar.
    @inline(__always)
    func spotMoments(_ cx: Int, _ cy: Int, _ half: Int) -> (weight: Float, x: Float, y: Float, range: Float) {
        let span = 2 &* half &+ 1
        let corner = base + ((cy &- half) &* width &+ (cx &- half))
        var low = Sample.max, high = Sample.min
        for j in 0..<span {
            let row = corner + j &* width
            for k in 0..<span {
                let v = row[k]
                low = min(low, v)
                high = max(high, v)
            }
        }
        let level = Int32(truncatingIfNeeded: low) &+ (Int32(truncatingIfNeeded: high) &- Int32(truncatingIfNeeded: low)) &* 2 / 5
        var sw: Int64 = 0, sx: Int64 = 0, sy: Int64 = 0
        for j in 0..<span {
            let row = corner + j &* width
            var rowWeight: Int32 = 0, rowX: Int32 = 0
            for k in 0..<span {
                let w = max(0, Int32(truncatingIfNeeded: row[k]) &- level)
                rowWeight &+= w
                rowX &+= w &* Int32(truncatingIfNeeded: k &- half)
            }
            sw &+= Int64(rowWeight)
            sx &+= Int64(rowX)
            sy &+= Int64(rowWeight) &* Int64(j &- half)
        }
        return (Float(sw), Float(sx), Float(sy),
                table[Int(truncatingIfNeeded: high)] - table[Int(truncatingIfNeeded: low)])
    }
}

extension LinearPlane {
    /// Bilinear interpolation; outside the frame the nearest edge pixel.
    @inline(__always)
    func bilinear(_ x: Double, _ y: Double) -> Float {
        let cx = min(max(x, 0), Double(width - 1)), cy = min(max(y, 0), Double(height - 1))
        let x0 = min(Int(cx), width - 2 < 0 ? 0 : width - 2), y0 = min(Int(cy), height - 2 < 0 ? 0 : height - 2)
        let fx = Float(cx - Double(x0)), fy = Float(cy - Double(y0))
        let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
        let top = value(x0, y0) * (1 - fx) + value(x1, y0) * fx
        let bottom = value(x0, y1) * (1 - fx) + value(x1, y1) * fx
        return top * (1 - fy) + bottom * fy
    }
}

/// The plane an analysis measures: the gray plane, the channel under test, or for white/black
/// on a colour capture the mean of the three linearised channels.
struct MeasurementPlane {
    enum Storage {
        case uint8([UInt8], offset: Int)
        case uint16([UInt16], offset: Int)
    }
    let width: Int
    let height: Int
    let storage: Storage
    let table: [Float]

    init(image: Image, pattern: TestPattern, response: Response) {
        width = image.width
        height = image.height
        let plane = width * height
        let valueTable = response.table(maxValue: image.maxValue)
        if image.channels == 1 || pattern.planeIndex != nil {
            let offset = image.channels == 1 ? 0 : pattern.planeIndex! * plane
            switch image.samples {
            case .uint8(let samples): storage = .uint8(samples, offset: offset)
            case .uint16(let samples): storage = .uint16(samples, offset: offset)
            }
            table = valueTable
            return
        }
        // Mean of three channels in linear light, kept as 16-bit to stay compact.
        var mean = [UInt16](repeating: 0, count: plane)
        valueTable.withUnsafeBufferPointer { lut in
            mean.withUnsafeMutableBufferPointer { out in
                func combine<S: FixedWidthInteger & UnsignedInteger>(_ samples: [S]) {
                    samples.withUnsafeBufferPointer { s in
                        for i in 0..<plane {
                            let sum = lut[Int(s[i])] + lut[Int(s[i &+ plane])] + lut[Int(s[i &+ 2 &* plane])]
                            out[i] = UInt16(min(65535, sum * (65535.0 / 3) + 0.5))
                        }
                    }
                }
                switch image.samples {
                case .uint8(let samples): combine(samples)
                case .uint16(let samples): combine(samples)
                }
            }
        }
        storage = .uint16(mean, offset: 0)
        table = (0...65535).map { Float($0) / 65535 }
    }

    func withView<R, E: Error>(_ eight: (PlaneView<UInt8>) throws(E) -> R,
                               _ sixteen: (PlaneView<UInt16>) throws(E) -> R) throws(E) -> R {
        try table.withUnsafeBufferPointer { (lut) throws(E) -> R in
            switch storage {
            case .uint8(let samples, let offset):
                return try samples.withUnsafeBufferPointer { (buffer) throws(E) -> R in
                    try eight(PlaneView(base: buffer.baseAddress! + offset, width: width, height: height,
                                        table: lut.baseAddress!))
                }
            case .uint16(let samples, let offset):
                return try samples.withUnsafeBufferPointer { (buffer) throws(E) -> R in
                    try sixteen(PlaneView(base: buffer.baseAddress! + offset, width: width, height: height,
                                          table: lut.baseAddress!))
                }
            }
        }
    }

    /// Registers the display on this plane.
    func register(grid: LEDGrid) throws(AnalysisError) -> Registration {
        try withView({ (v) throws(AnalysisError) in try Registrar.register(v, grid: grid) },
                     { (v) throws(AnalysisError) in try Registrar.register(v, grid: grid) })
    }

    /// Each LED's own light at the registered positions, neighbours' spill removed.
    func measureLit(_ registration: Registration) -> [Float] {
        withView({ LEDSampler.removeCrosstalk($0, registration, levels: LEDSampler.measure($0, registration)) },
                 { LEDSampler.removeCrosstalk($0, registration, levels: LEDSampler.measure($0, registration)) })
    }

    /// Each LED's light at the registered positions.
    func measure(_ registration: Registration) -> [Float] {
        withView({ LEDSampler.measure($0, registration) }, { LEDSampler.measure($0, registration) })
    }

    /// The camera shift since the registration, measured on the LEDs at `indices`.
    func shift(_ registration: Registration, at indices: [Int]) -> (dx: Double, dy: Double) {
        withView({ LEDSampler.shift($0, registration, at: indices) }, { LEDSampler.shift($0, registration, at: indices) })
    }
}
