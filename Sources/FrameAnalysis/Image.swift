/// A camera capture or a rendered picture: planar samples, 8 or 16 bit, gray or RGB.
///
/// Planar (plane 0 = gray or red, 1 = green, 2 = blue) because analysis reads one channel at a
/// time; interleaving is only done at the file boundary.
public struct Image: Sendable {
    public enum Samples: Sendable {
        case uint8([UInt8])
        case uint16([UInt16])
    }

    public let width: Int
    public let height: Int
    /// 1 (gray) or 3 (RGB).
    public let channels: Int
    /// The sample value that means full scale: 255, 65535, or a PNM file's maxval.
    public let maxValue: Int
    public internal(set) var samples: Samples

    public init(width: Int, height: Int, channels: Int, maxValue: Int, samples: Samples) {
        precondition(channels == 1 || channels == 3, "an Image has 1 or 3 channels")
        let count = width * height * channels
        switch samples {
        case .uint8(let values): precondition(values.count == count && maxValue <= 255)
        case .uint16(let values): precondition(values.count == count && maxValue <= 65535)
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.maxValue = maxValue
        self.samples = samples
    }

    /// A black image.
    public init(width: Int, height: Int, channels: Int, bitDepth: Int) {
        let count = width * height * channels
        self.init(width: width, height: height, channels: channels,
                  maxValue: bitDepth == 8 ? 255 : 65535,
                  samples: bitDepth == 8 ? .uint8([UInt8](repeating: 0, count: count))
                                         : .uint16([UInt16](repeating: 0, count: count)))
    }

    public var bitDepth: Int {
        if case .uint8 = samples { return 8 }
        return 16
    }

    public var isColor: Bool { channels == 3 }

    /// Bytes held by the samples.
    public var byteCount: Int { width * height * channels * (bitDepth / 8) }

    /// Sample of `channel` at (x, y), as stored.
    public func sample(x: Int, y: Int, channel: Int = 0) -> Int {
        let index = (channel * height + y) * width + x
        switch samples {
        case .uint8(let values): return Int(values[index])
        case .uint16(let values): return Int(values[index])
        }
    }

    /// The image reduced to 8 bits per sample (for JPEG writing and annotations).
    public func eightBit() -> Image {
        switch samples {
        case .uint8 where maxValue == 255: return self
        case .uint8(let values):
            let scale = 255 / Float(maxValue)
            return Image(width: width, height: height, channels: channels, maxValue: 255,
                         samples: .uint8(values.map { UInt8(min(255, Float($0) * scale + 0.5)) }))
        case .uint16(let values):
            let scale = 255 / Float(maxValue)
            return Image(width: width, height: height, channels: channels, maxValue: 255,
                         samples: .uint8(values.map { UInt8(min(255, Float($0) * scale + 0.5)) }))
        }
    }
}
