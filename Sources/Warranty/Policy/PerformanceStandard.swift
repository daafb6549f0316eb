import Diagnostics
import Foundation

/// The performance standard of clause 3.1.2: how many failed LEDs, lines and modules a
/// display may have before it counts as a performance problem. The policy gives the default;
/// a product's sales contract (in the registry) may replace it.
public struct PerformanceStandard: Codable, Sendable, Hashable {
    public enum Standard: String, Codable, Sendable {
        /// Out-of-control LED rates, as commonly quoted from SJ/T 11141.
        case sjt11141
        /// ISO 13406-2 pixel fault classes I-IV.
        case iso13406_2 = "iso13406-2"
    }

    public var standard: Standard
    public var maxOutOfControlRate: Double?
    public var maxOutOfControlRateWorstRegion: Double?
    public var regionSize: Int?
    public var isoClass: ISOPixelClass?
    public var deadLinesAllowed: Int
    public var deadModulesAllowed: Int

    public init(standard: Standard = .sjt11141, maxOutOfControlRate: Double? = 0.0001,
                maxOutOfControlRateWorstRegion: Double? = 0.0003, regionSize: Int? = 100,
                isoClass: ISOPixelClass? = nil, deadLinesAllowed: Int = 0, deadModulesAllowed: Int = 0) {
        self.standard = standard
        self.maxOutOfControlRate = maxOutOfControlRate
        self.maxOutOfControlRateWorstRegion = maxOutOfControlRateWorstRegion
        self.regionSize = regionSize
        self.isoClass = isoClass
        self.deadLinesAllowed = deadLinesAllowed
        self.deadModulesAllowed = deadModulesAllowed
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        standard = try c.decodeIfPresent(Standard.self, forKey: .standard) ?? .sjt11141
        maxOutOfControlRate = try c.decodeIfPresent(Double.self, forKey: .maxOutOfControlRate)
        maxOutOfControlRateWorstRegion = try c.decodeIfPresent(Double.self, forKey: .maxOutOfControlRateWorstRegion)
        regionSize = try c.decodeIfPresent(Int.self, forKey: .regionSize)
        isoClass = try c.decodeIfPresent(ISOPixelClass.self, forKey: .isoClass)
        deadLinesAllowed = try c.decodeIfPresent(Int.self, forKey: .deadLinesAllowed) ?? 0
        deadModulesAllowed = try c.decodeIfPresent(Int.self, forKey: .deadModulesAllowed) ?? 0
    }

    func validate(origin: String) throws {
        switch standard {
        case .sjt11141:
            guard let whole = maxOutOfControlRate, whole >= 0, whole < 1 else {
                throw PolicyError.invalid(path: origin, reason: "performanceStandard.maxOutOfControlRate must be between 0 and 1")
            }
            if let region = maxOutOfControlRateWorstRegion, region < 0 || region >= 1 {
                throw PolicyError.invalid(path: origin, reason: "performanceStandard.maxOutOfControlRateWorstRegion must be between 0 and 1")
            }
            if let size = regionSize, size < 1 {
                throw PolicyError.invalid(path: origin, reason: "performanceStandard.regionSize must be positive")
            }
        case .iso13406_2:
            if isoClass == nil {
                throw PolicyError.invalid(path: origin, reason: "performanceStandard.isoClass is required for iso13406-2 (I, II, III or IV)")
            }
        }
        if deadLinesAllowed < 0 || deadModulesAllowed < 0 {
            throw PolicyError.invalid(path: origin, reason: "dead lines/modules allowed cannot be negative")
        }
    }

    /// A short description for the case file: "SJ/T 11141: <= 1/10,000 whole screen, ...".
    public var summary: String {
        switch standard {
        case .sjt11141:
            let whole = (maxOutOfControlRate ?? 0) * 10_000
            var text = "SJ/T 11141 figures: out-of-control LEDs at most \(Self.format(whole)) in 10,000 over the whole screen"
            if let region = maxOutOfControlRateWorstRegion {
                let size = regionSize ?? 100
                text += " and \(Self.format(region * 10_000)) in 10,000 in any \(size)x\(size) region"
            }
            return text + "; dead lines allowed: \(deadLinesAllowed); dead modules allowed: \(deadModulesAllowed)"
        case .iso13406_2:
            let cls = isoClass ?? .II
            let l = cls.limitsPerMillion
            return "ISO 13406-2 class \(cls.rawValue): per million pixels at most \(l.alwaysLit) always lit, "
                + "\(l.alwaysDark) always dark, \(l.subpixel) sub-pixel faults; dead lines allowed: "
                + "\(deadLinesAllowed); dead modules allowed: \(deadModulesAllowed)"
        }
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100  // 0.0003 * 10_000 is 2.9999999999999996
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2f", rounded)
    }
}

/// ISO 13406-2 pixel fault classes with their allowed faults per million pixels
/// (type 1 always lit, type 2 always dark, type 3 sub-pixel).
public enum ISOPixelClass: String, Codable, Sendable, CaseIterable {
    case I, II, III, IV

    public var limitsPerMillion: (alwaysLit: Double, alwaysDark: Double, subpixel: Double) {
        switch self {
        case .I: (0, 0, 0)
        case .II: (2, 2, 5)
        case .III: (5, 15, 50)
        case .IV: (50, 150, 500)
        }
    }
}
