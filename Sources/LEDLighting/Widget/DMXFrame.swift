/// One DMX512 frame's slot values (channels 1...512), built from what an engineer types:
/// `1=255 2=128`, `10-20=64`, or every channel at one level.
public struct DMXFrame: Equatable, Sendable {
    public private(set) var slots: [UInt8]

    /// A frame of `count` slots at `level` (count 0...512).
    public init(all level: UInt8 = 0, count: Int = 512) {
        slots = [UInt8](repeating: level, count: max(0, min(512, count)))
    }

    /// Applies `CHANNEL=LEVEL` or `FIRST-LAST=LEVEL` (channels 1...512, levels 0...255);
    /// the frame grows to the highest channel set.
    public mutating func apply(_ assignment: String) throws(LightingError) {
        let parts = assignment.split(separator: "=", omittingEmptySubsequences: false)
        guard parts.count == 2, let level = UInt8(parts[1]) else {
            throw .invalidArgument("'\(assignment)': write CHANNEL=LEVEL or FIRST-LAST=LEVEL, level 0...255")
        }
        let range = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(range.count), let first = Int(range[0]), let last = Int(range.last!),
              (1...512).contains(first), (first...512).contains(last) else {
            throw .invalidArgument("'\(assignment)': channels are 1...512 (FIRST-LAST with FIRST <= LAST)")
        }
        if slots.count < last { slots += [UInt8](repeating: 0, count: last - slots.count) }
        for channel in first...last { slots[channel - 1] = level }
    }
}
