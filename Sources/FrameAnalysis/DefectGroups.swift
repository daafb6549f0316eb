/// Defects that belong together: dead line segments, dead modules, clusters.
public struct DefectGroups: Sendable, Equatable {
    /// A run of dead LEDs along one row or one column.
    public struct Line: Sendable, Equatable {
        public enum Orientation: String, Sendable { case row, column }
        public let orientation: Orientation
        /// The row (y) or column (x) index.
        public let index: Int
        /// First and last LED along the line (inclusive).
        public let from: Int
        public let to: Int
        public let channel: LEDChannel
        public var length: Int { to - from + 1 }
    }

    /// A module most of whose LEDs are dead.
    public struct Module: Sendable, Equatable {
        /// Module column and row in the module grid.
        public let column: Int
        public let row: Int
        /// Its LED rectangle.
        public let x: Int, y: Int, width: Int, height: Int
        public let deadFraction: Double
        public let channel: LEDChannel
    }

    /// Neighbouring defective LEDs (8-connected) not explained by a line or a module.
    public struct Cluster: Sendable, Equatable {
        public let x: Int, y: Int, width: Int, height: Int
        public let count: Int
        public let kinds: [DefectKind]
    }

    public let lines: [Line]
    public let modules: [Module]
    public let clusters: [Cluster]

    /// Shortest run reported as a line.
    public static let minimumLineLength = 4
    /// Share of dead LEDs from which a module counts as dead.
    public static let deadModuleFraction = 0.9

    public init(_ map: DefectMap, module: LEDGrid = LEDGrid(cols: 64, rows: 32)) {
        let cols = map.cols, rows = map.rows
        var dead = [LEDChannel?](repeating: nil, count: cols * rows)
        var defective = [DefectKind?](repeating: nil, count: cols * rows)
        for d in map.defects {
            if d.kind == .dead { dead[d.y * cols + d.x] = d.channel }
            defective[d.y * cols + d.x] = d.kind
        }
        var explained = [Bool](repeating: false, count: cols * rows)
        var modules: [Module] = []
        for my in 0..<(rows + module.rows - 1) / module.rows {
            for mx in 0..<(cols + module.cols - 1) / module.cols {
                let x0 = mx * module.cols, y0 = my * module.rows
                let w = min(module.cols, cols - x0), h = min(module.rows, rows - y0)
                var count = 0
                var channel = LEDChannel.all
                for y in y0..<y0 + h { for x in x0..<x0 + w { if let c = dead[y * cols + x] { count += 1; channel = c } } }
                let fraction = Double(count) / Double(w * h)
                if fraction >= Self.deadModuleFraction, w * h >= 4 {
                    modules.append(Module(column: mx, row: my, x: x0, y: y0, width: w, height: h,
                                          deadFraction: fraction, channel: channel))
                    for y in y0..<y0 + h { for x in x0..<x0 + w { explained[y * cols + x] = true } }
                }
            }
        }
        var lines: [Line] = []
        func scan(orientation: Line.Orientation) {
            let outer = orientation == .row ? rows : cols, inner = orientation == .row ? cols : rows
            for a in 0..<outer {
                var start = -1
                for b in 0...inner {
                    let index = b < inner ? (orientation == .row ? a * cols + b : b * cols + a) : -1
                    let isDead = index >= 0 && dead[index] != nil && !explained[index]
                    if isDead && start < 0 { start = b }
                    if !isDead && start >= 0 {
                        if b - start >= Self.minimumLineLength {
                            let first = orientation == .row ? a * cols + start : start * cols + a
                            lines.append(Line(orientation: orientation, index: a, from: start, to: b - 1,
                                              channel: dead[first] ?? .all))
                        }
                        start = -1
                    }
                }
            }
        }
        scan(orientation: .row)
        scan(orientation: .column)
        for line in lines {
            for k in line.from...line.to {
                explained[line.orientation == .row ? line.index * cols + k : k * cols + line.index] = true
            }
        }
        var clusters: [Cluster] = []
        var seen = explained
        for start in 0..<cols * rows where defective[start] != nil && !seen[start] {
            var stack = [start], members: [Int] = []
            seen[start] = true
            while let i = stack.popLast() {
                members.append(i)
                let x = i % cols, y = i / cols
                for ny in max(0, y - 1)...min(rows - 1, y + 1) {
                    for nx in max(0, x - 1)...min(cols - 1, x + 1) {
                        let n = ny * cols + nx
                        if !seen[n] && defective[n] != nil { seen[n] = true; stack.append(n) }
                    }
                }
            }
            guard members.count >= 2 else { continue }
            let xs = members.map { $0 % cols }, ys = members.map { $0 / cols }
            clusters.append(Cluster(x: xs.min()!, y: ys.min()!, width: xs.max()! - xs.min()! + 1,
                                    height: ys.max()! - ys.min()! + 1, count: members.count,
                                    kinds: Array(Set(members.compactMap { defective[$0] })).sorted()))
        }
        self.lines = lines
        self.modules = modules
        self.clusters = clusters.sorted { ($0.y, $0.x) < ($1.y, $1.x) }
    }
}

/// Pixel fault class in the manner of ISO 13406-2: faults per million LEDs of type 1 (always
/// lit: stuck), type 2 (always dark: dead), type 3 (partial: dim, or a single colour failed),
/// and clusters, against the standard's limits for classes I-IV.
public struct PixelFaultClass: Sendable, Equatable {
    public let type1PerMillion: Double
    public let type2PerMillion: Double
    public let type3PerMillion: Double
    public let clustersPerMillion: Double
    /// 1...4, or nil when even class IV's limits are exceeded.
    public let classNumber: Int?

    /// (type 1, type 2, type 3, clusters) allowed per million for classes I-IV.
    static let limits: [(Double, Double, Double, Double)] = [
        (0, 0, 0, 0), (2, 2, 5, 2), (5, 15, 50, 5), (50, 150, 500, 50),
    ]

    public init(_ map: DefectMap, groups: DefectGroups) {
        let perMillion = 1_000_000 / Double(map.ledCount)
        var type1 = Set<Int>(), type2 = Set<Int>(), type3 = Set<Int>()
        for d in map.defects {
            let led = d.y * map.cols + d.x
            switch d.kind {
            case .stuck: type1.insert(led)
            case .dead where d.channel == .all: type2.insert(led)
            case .dead, .dim: type3.insert(led)
            }
        }
        type1PerMillion = Double(type1.count) * perMillion
        type2PerMillion = Double(type2.count) * perMillion
        type3PerMillion = Double(type3.count) * perMillion
        clustersPerMillion = Double(groups.clusters.count) * perMillion
        let measured = (type1PerMillion, type2PerMillion, type3PerMillion, clustersPerMillion)
        classNumber = Self.limits.firstIndex { limit in
            measured.0 <= limit.0 && measured.1 <= limit.1 && measured.2 <= limit.2 && measured.3 <= limit.3
        }.map { $0 + 1 }
    }

    public var name: String {
        guard let classNumber else { return "beyond IV" }
        return ["I", "II", "III", "IV"][classNumber - 1]
    }
}

/// How even the healthy LEDs are, from the per-LED levels relative to their neighbourhood.
public struct Uniformity: Sendable, Equatable {
    /// Standard deviation of healthy LEDs' relative levels (LED-to-LED non-uniformity).
    public let ledStandardDeviation: Double
    /// 5th and 95th percentile of healthy LEDs' relative levels.
    public let p5: Double
    public let p95: Double
    /// Darkest over brightest expected level across the display as captured (includes the
    /// camera's vignetting: compare captures taken the same way).
    public let fieldMinOverMax: Double

    init(relative: [Float], expected: [Float], healthy: [Bool]) {
        let values = sortedLevels(zip(relative, healthy).filter { $0.1 }.map(\.0)).map(Double.init)
        let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        let variance = values.isEmpty ? 0 : values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        ledStandardDeviation = variance.squareRoot()
        p5 = values.isEmpty ? 0 : values[values.count * 5 / 100]
        p95 = values.isEmpty ? 0 : values[min(values.count - 1, values.count * 95 / 100)]
        let field = expected.filter { $0 > 0 }
        fieldMinOverMax = Double((field.min() ?? 0) / max(field.max() ?? 1, .leastNonzeroMagnitude))
    }
}

/// `values` in ascending order. Non-negative floats order as their bit patterns, so two stable
/// 16-bit counting passes replace a comparison sort of every healthy LED (the slowest step
/// after registration); a negative zero, a negative value or NaN falls back to `sorted()`.
/// Equal keys are equal values, so the result is exactly that of `sorted()`.
func sortedLevels(_ values: [Float]) -> [Float] {
    guard values.count > 1024, values.allSatisfy({ $0.sign == .plus && !$0.isNaN }) else { return values.sorted() }
    var keys = values.map(\.bitPattern), scratch = keys
    var counts = [Int](repeating: 0, count: 1 << 16)
    for shift: UInt32 in [0, 16] {
        for i in counts.indices { counts[i] = 0 }
        for key in keys { counts[Int((key >> shift) & 0xffff)] += 1 }
        var total = 0
        for i in counts.indices { (counts[i], total) = (total, total + counts[i]) }
        for key in keys {
            let bucket = Int((key >> shift) & 0xffff)
            scratch[counts[bucket]] = key
            counts[bucket] += 1
        }
        swap(&keys, &scratch)
    }
    return keys.map(Float.init(bitPattern:))
}
