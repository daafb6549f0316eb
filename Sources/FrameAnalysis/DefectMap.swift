/// What is wrong with one LED.
public enum DefectKind: String, Sendable, Codable, CaseIterable, Comparable {
    /// Lit pattern, LED gives under 30% of its expected local level.
    case dead
    /// Black pattern, LED gives over 30% of its white level.
    case stuck
    /// Lit pattern, 30% to 70% of the expected local level.
    case dim

    public static func < (a: DefectKind, b: DefectKind) -> Bool { a.rawValue < b.rawValue }
}

/// Which colour a defect concerns: the colour under test, or `all` for white/black tests
/// and for electrical status that covers the whole LED.
public enum LEDChannel: String, Sendable, Codable, CaseIterable, Comparable {
    case all, red, green, blue
    public static func < (a: LEDChannel, b: LEDChannel) -> Bool { a.rawValue < b.rawValue }
}

/// One defective LED at 0-based grid position (x, y), (0, 0) top-left seen from the front.
public struct LEDDefect: Sendable, Hashable, Codable, Comparable {
    public var x: Int
    public var y: Int
    public var kind: DefectKind
    public var channel: LEDChannel

    public init(x: Int, y: Int, kind: DefectKind, channel: LEDChannel = .all) {
        self.x = x
        self.y = y
        self.kind = kind
        self.channel = channel
    }

    public static func < (a: LEDDefect, b: LEDDefect) -> Bool {
        (a.y, a.x, a.kind, a.channel) < (b.y, b.x, b.kind, b.channel)
    }
}

/// The defective LEDs of one display, whatever found them: a camera capture analysed here,
/// or the controller's electrical per-LED status (build it from a plain list). Sorted,
/// one entry per (x, y, kind, channel).
public struct DefectMap: Sendable, Equatable, Codable {
    public let cols: Int
    public let rows: Int
    public let defects: [LEDDefect]

    /// From a plain list; duplicates are dropped, out-of-grid entries are rejected.
    public init(cols: Int, rows: Int, defects: [LEDDefect]) {
        precondition(cols > 0 && rows > 0, "a DefectMap needs a non-empty grid")
        for d in defects {
            precondition((0..<cols).contains(d.x) && (0..<rows).contains(d.y),
                         "defect (\(d.x), \(d.y)) outside the \(cols)x\(rows) grid")
        }
        self.cols = cols
        self.rows = rows
        self.defects = Array(Set(defects)).sorted()
    }

    /// From (x, y, kind, channel) tuples, as an electrical status scan produces them.
    public init(cols: Int, rows: Int, entries: [(x: Int, y: Int, kind: DefectKind, channel: LEDChannel)]) {
        self.init(cols: cols, rows: rows,
                  defects: entries.map { LEDDefect(x: $0.x, y: $0.y, kind: $0.kind, channel: $0.channel) })
    }

    public var isEmpty: Bool { defects.isEmpty }
    public var ledCount: Int { cols * rows }

    /// Defective LEDs per million LEDs (each LED counted once however many defects it has).
    public var defectsPerMillion: Double {
        let leds = Set(defects.map { $0.y * cols + $0.x }).count
        return Double(leds) / Double(ledCount) * 1_000_000
    }

    /// Both maps' defects together (e.g. camera and electrical); the grids must match.
    public func merged(with other: DefectMap) -> DefectMap {
        precondition(cols == other.cols && rows == other.rows, "merging maps of different grids")
        return DefectMap(cols: cols, rows: rows, defects: defects + other.defects)
    }

    /// Precision and recall of `self` against a ground truth, over (x, y, kind, channel).
    public func score(against truth: DefectMap) -> (precision: Double, recall: Double) {
        let found = Set(defects), expected = Set(truth.defects)
        let hits = Double(found.intersection(expected).count)
        return (found.isEmpty ? 1 : hits / Double(found.count),
                expected.isEmpty ? 1 : hits / Double(expected.count))
    }
}
