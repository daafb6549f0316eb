import Foundation
import Testing
@testable import FrameAnalysis

/// The speed-ups of the analysis hot paths must give exactly (bit for bit) what the plain
/// code they replaced gives.
struct FastPathTests {
    @Test func radixSortedLevelsEqualSorted() {
        var random = SeededRandom(seed: 5)
        // Many duplicates (quantised levels), zeros, +infinity, and more than 65536 distinct keys.
        var values = (0..<90_000).map { _ in Float(random.uniform(0...2)) }
        values += (0..<5_000).map { _ in Float(Int(random.uniform(0...40))) / 8 }
        values += [0, 0, .infinity, .leastNonzeroMagnitude]
        #expect(sortedLevels(values).map(\.bitPattern) == values.sorted().map(\.bitPattern))
        // A negative zero or a negative value takes the comparison sort.
        for odd: Float in [-0.0, -1] {
            let mixed = values + [odd]
            #expect(sortedLevels(mixed).map(\.bitPattern) == mixed.sorted().map(\.bitPattern))
        }
    }

    @Test func fourLaneGoertzelEqualsScalar() {
        var random = SeededRandom(seed: 6)
        let signal = (0..<256).map { _ in random.uniform(-1...1) }
        let frequencies = [0.05, 0.11, 0.125, 0.2, 0.31, 0.37, 0.49]   // not a multiple of 4
        let powers = goertzelPowers(signal, cyclesPerSample: frequencies)
        for (frequency, power) in zip(frequencies, powers) {
            let coefficient = 2 * cos(2 * Double.pi * frequency)
            var s1 = 0.0, s2 = 0.0
            for v in signal { (s1, s2) = (v + coefficient * s1 - s2, s1) }
            #expect(power.bitPattern == (s1 * s1 + s2 * s2 - coefficient * s1 * s2).bitPattern)
        }
    }

    @Test(arguments: [1, 3, 8]) func blockMaximaEqualPerPixelMaxima(factor: Int) {
        var random = SeededRandom(seed: 7)
        let width = 50, height = 35
        let samples = (0..<(width * height)).map { _ in UInt8(random.next() & 0xff) }
        let table = Response.srgb.table(maxValue: 255)
        samples.withUnsafeBufferPointer { pixels in
            table.withUnsafeBufferPointer { lut in
                let view = PlaneView(base: pixels.baseAddress!, width: width, height: height, table: lut.baseAddress!)
                let maxima = view.blockMaxima(factor: factor)
                let w = width / factor, h = height / factor
                #expect(maxima.count == w * h)
                for by in 0..<h {
                    for bx in 0..<w {
                        var top: Float = 0
                        for y in by * factor..<(by + 1) * factor {
                            for x in bx * factor..<(bx + 1) * factor { top = max(top, view.value(x, y)) }
                        }
                        #expect(maxima[by * w + bx] == top)
                    }
                }
            }
        }
    }
}
