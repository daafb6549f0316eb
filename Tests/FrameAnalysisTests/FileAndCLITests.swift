import Foundation
import CLibPNG
import Testing
@testable import FrameAnalysis

/// A fresh temporary directory per test.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "ledsentry-analysis-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A small scene used by the file and CLI tests: 96x48 LEDs on a 1280x800 camera.
func smallScene(seed: UInt64 = 7, channels: Int = 1, bitDepth: Int = 8) -> CaptureSimulator {
    let display = SimulatedDisplay.random(cols: 96, rows: 48, seed: seed)
    let camera = CameraSetup.random(cols: 96, rows: 48, width: 1280, height: 800, channels: channels,
                                    bitDepth: bitDepth, seed: seed)
    return CaptureSimulator(display: display, camera: camera)
}

@Suite struct ImageFileTests {
    @Test(arguments: [("pgm", 1, 8), ("pgm", 1, 16), ("ppm", 3, 8), ("ppm", 3, 16),
                      ("png", 1, 8), ("png", 1, 16), ("png", 3, 8), ("png", 3, 16)])
    func losslessFormatsRoundTrip(_ format: String, _ channels: Int, _ bitDepth: Int) throws {
        let dir = try temporaryDirectory()
        let image = smallScene(channels: channels, bitDepth: bitDepth).render(.white)
        let path = "\(dir)/capture.\(format)"
        try ImageFiles.write(image, to: path)
        let (back, _) = try ImageFiles.read(path: path)
        #expect(back.width == image.width && back.height == image.height && back.channels == channels)
        #expect(back.bitDepth == bitDepth)
        for (x, y) in [(0, 0), (640, 400), (1279, 799), (333, 222)] {
            for c in 0..<channels { #expect(back.sample(x: x, y: y, channel: c) == image.sample(x: x, y: y, channel: c)) }
        }
    }

    @Test func jpegRoundTripIsClose() throws {
        let dir = try temporaryDirectory()
        var camera = smallScene(channels: 3).camera
        camera.srgb = true
        let image = CaptureSimulator(display: smallScene().display, camera: camera).render(.white)
        try ImageFiles.write(image, to: "\(dir)/c.jpg", jpegQuality: 95)
        let (back, format) = try ImageFiles.read(path: "\(dir)/c.jpg")
        #expect(format == .jpeg && back.channels == 3 && back.width == 1280)
        var error = 0.0
        for y in Swift.stride(from: 0, to: 800, by: 7) { for x in Swift.stride(from: 0, to: 1280, by: 7) {
            error += Double(abs(back.sample(x: x, y: y, channel: 1) - image.sample(x: x, y: y, channel: 1)))
        } }
        #expect(error / Double((800 / 7 + 1) * (1280 / 7 + 1)) < 4)
    }

    @Test func pngWithPaletteAndAlphaIsConverted() throws {
        // An RGBA file and a colour-mapped (palette) file, written by libpng itself: the reader
        // composites alpha onto black and expands the palette to RGB.
        let dir = try temporaryDirectory()
        var rgba = png_image()
        rgba.version = UInt32(PNG_IMAGE_VERSION)
        rgba.width = 4
        rgba.height = 2
        rgba.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        let pixels = [UInt8]((0..<8).flatMap { _ in [200, 100, 50, 255] as [UInt8] })
        #expect(pixels.withUnsafeBytes { png_image_write_to_file(&rgba, "\(dir)/rgba.png", 0, $0.baseAddress, 0, nil) } != 0)
        let (image, _) = try ImageFiles.read(path: "\(dir)/rgba.png")
        #expect(image.channels == 3 && image.width == 4 && image.height == 2)
        #expect(image.sample(x: 1, y: 1, channel: 0) == 200 && image.sample(x: 1, y: 1, channel: 2) == 50)

        var mapped = png_image()
        mapped.version = UInt32(PNG_IMAGE_VERSION)
        mapped.width = 4
        mapped.height = 2
        mapped.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_COLORMAP)
        mapped.colormap_entries = 2
        let colormap: [UInt8] = [10, 20, 30, 250, 240, 230]
        let indices: [UInt8] = [0, 1, 0, 1, 1, 1, 0, 0]
        let wrote = indices.withUnsafeBytes { i in colormap.withUnsafeBytes { c in
            png_image_write_to_file(&mapped, "\(dir)/palette.png", 0, i.baseAddress, 0, c.baseAddress)
        } }
        #expect(wrote != 0)
        let (palette, _) = try ImageFiles.read(path: "\(dir)/palette.png")
        #expect(palette.channels == 3)
        #expect(palette.sample(x: 1, y: 0, channel: 0) == 250 && palette.sample(x: 0, y: 0, channel: 2) == 30)
    }

    @Test func truncatedFilesNameTheProblem() throws {
        let dir = try temporaryDirectory()
        let image = smallScene(channels: 3).render(.white)
        for format in ["ppm", "png", "jpg"] {
            let path = "\(dir)/full.\(format)"
            try ImageFiles.write(image, to: path)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let cut = "\(dir)/cut.\(format)"
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
            #expect(throws: ImageFileError.self) { try ImageFiles.read(path: cut) }
            do { _ = try ImageFiles.read(path: cut) } catch {
                #expect(error.description.contains(cut))
                #expect(error.description.contains("truncated") || error.description.contains("corrupt"), "\(error)")
            }
        }
    }

    @Test func corruptAndUnknownFilesAreRejected() throws {
        let dir = try temporaryDirectory()
        try Data("hello, not an image".utf8).write(to: URL(fileURLWithPath: "\(dir)/a.png"))
        #expect(throws: ImageFileError.unknownFormat(path: "\(dir)/a.png")) { try ImageFiles.read(path: "\(dir)/a.png") }
        try Data("P5\n12 x\n255\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/b.pgm"))
        #expect(throws: ImageFileError.self) { try ImageFiles.read(path: "\(dir)/b.pgm") }
        // A JPEG whose entropy-coded data is overwritten with garbage.
        try ImageFiles.write(smallScene().render(.white), to: "\(dir)/c.jpg")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/c.jpg")))
        for i in 700..<min(bytes.count - 2, 4000) { bytes[i] = UInt8(truncatingIfNeeded: i &* 37) }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/c.jpg"))
        #expect(throws: ImageFileError.self) { try ImageFiles.read(path: "\(dir)/c.jpg") }
        #expect(throws: ImageFileError.unreadable(path: "\(dir)/missing.png", reason: "No such file or directory")) {
            try ImageFiles.read(path: "\(dir)/missing.png")
        }
    }
}

@Suite struct BadCaptureTests {
    @Test func wrongGridIsReported() throws {
        let scene = smallScene()
        let image = scene.render(.white)
        for grid in [LEDGrid(cols: 48, rows: 24), LEDGrid(cols: 192, rows: 96), LEDGrid(cols: 96, rows: 30)] {
            #expect(throws: AnalysisError.self) {
                try FrameAnalyzer.analyze(image, options: AnalysisOptions(grid: grid, pattern: .white), response: .linear)
            }
        }
    }

    @Test func noDisplayIsReported() throws {
        var camera = smallScene().camera
        camera.exposure = 0  // the display is off: only the background is seen
        let image = CaptureSimulator(display: smallScene().display, camera: camera).render(.white)
        #expect(throws: AnalysisError.self) {
            try FrameAnalyzer.analyze(image, options: AnalysisOptions(grid: LEDGrid(cols: 96, rows: 48), pattern: .white), response: .linear)
        }
        let flat = Image(width: 640, height: 480, channels: 1, bitDepth: 8)
        #expect(throws: AnalysisError.self) {
            try FrameAnalyzer.analyze(flat, options: AnalysisOptions(grid: LEDGrid(cols: 96, rows: 48), pattern: .white), response: .linear)
        }
    }

    @Test func blackNeedsReference() throws {
        let image = smallScene().render(.black)
        #expect(throws: AnalysisError.referenceRequired) {
            try FrameAnalyzer.analyze(image, options: AnalysisOptions(grid: LEDGrid(cols: 96, rows: 48), pattern: .black), response: .linear)
        }
        let other = Image(width: 100, height: 100, channels: 1, bitDepth: 8)
        #expect(throws: AnalysisError.self) {
            try FrameAnalyzer.analyze(image, options: AnalysisOptions(grid: LEDGrid(cols: 96, rows: 48), pattern: .black),
                                      response: .linear, reference: (other, .linear))
        }
    }
}

@Suite struct DefectMapTests {
    @Test func buildsFromElectricalStatusList() {
        let map = DefectMap(cols: 8, rows: 4, entries: [(x: 3, y: 1, kind: .dead, channel: .red), (x: 0, y: 0, kind: .stuck, channel: .all),
                                                         (x: 3, y: 1, kind: .dead, channel: .red)])
        #expect(map.defects == [LEDDefect(x: 0, y: 0, kind: .stuck), LEDDefect(x: 3, y: 1, kind: .dead, channel: .red)])
        #expect(map.defectsPerMillion == 2.0 / 32 * 1_000_000)
        let merged = map.merged(with: DefectMap(cols: 8, rows: 4, defects: [LEDDefect(x: 7, y: 3, kind: .dim)]))
        #expect(merged.defects.count == 3)
    }

    @Test func groupsLinesModulesAndClusters() {
        var defects: [LEDDefect] = []
        for x in 0..<16 { for y in 8..<16 { defects.append(LEDDefect(x: x, y: y, kind: .dead)) } }  // module (0,1) of 16x8
        for x in 20..<30 { defects.append(LEDDefect(x: x, y: 2, kind: .dead)) }  // row segment
        for y in 0..<5 { defects.append(LEDDefect(x: 40, y: y, kind: .dead)) }  // column segment
        defects += [LEDDefect(x: 35, y: 10, kind: .dim), LEDDefect(x: 36, y: 11, kind: .dead), LEDDefect(x: 50, y: 12, kind: .dim)]
        let map = DefectMap(cols: 64, rows: 32, defects: defects)
        let groups = DefectGroups(map, module: LEDGrid(cols: 16, rows: 8))
        #expect(groups.modules.map { [$0.column, $0.row] } == [[0, 1]])
        #expect(groups.lines.count == 2)
        #expect(groups.lines.contains { $0.orientation == .row && $0.index == 2 && $0.from == 20 && $0.to == 29 })
        #expect(groups.lines.contains { $0.orientation == .column && $0.index == 40 && $0.from == 0 && $0.to == 4 })
        #expect(groups.clusters.count == 1 && groups.clusters[0].count == 2)
        let fault = PixelFaultClass(map, groups: groups)
        #expect(fault.classNumber == nil)
        #expect(PixelFaultClass(DefectMap(cols: 64, rows: 32, defects: []), groups: DefectGroups(DefectMap(cols: 64, rows: 32, defects: []))).classNumber == 1)
    }
}

@Suite struct ExifOrientationTests {
    /// A JPEG with an APP1 Exif block carrying `orientation` right after SOI.
    func jpeg(_ image: Image, orientation: UInt8) throws -> [UInt8] {
        let plain = try ImageFiles.jpegData(image, quality: 95)
        let tiff: [UInt8] = [0x4D, 0x4D, 0, 0x2A, 0, 0, 0, 8,      // big-endian TIFF, IFD at 8
                             0, 1,                                  // one entry
                             0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0,  // Orientation SHORT
                             0, 0, 0, 0]                            // no next IFD
        let body: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0] + tiff
        let length = body.count + 2
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + body + plain.dropFirst(2)
    }

    @Test func phoneJpegsAreTurnedUpright() throws {
        // A 64x32 gradient with a bright marker at the top-left corner.
        var samples = [UInt8](repeating: 40, count: 64 * 32)
        for y in 0..<8 { for x in 0..<8 { samples[y * 64 + x] = 250 } }
        let image = Image(width: 64, height: 32, channels: 1, maxValue: 255, samples: .uint8(samples))
        let dir = try temporaryDirectory()
        for (orientation, size, marker) in [(UInt8(1), (64, 32), (2, 2)), (3, (64, 32), (61, 29)), (6, (32, 64), (29, 2)), (8, (32, 64), (2, 61))] {
            let path = "\(dir)/o\(orientation).jpg"
            try Data(try jpeg(image, orientation: orientation)).write(to: URL(fileURLWithPath: path))
            let (upright, _) = try ImageFiles.read(path: path)
            #expect(upright.width == size.0 && upright.height == size.1, "orientation \(orientation)")
            #expect(upright.sample(x: marker.0, y: marker.1) > 200, "orientation \(orientation)")
        }
    }
}

@Suite struct OddFileTests {
    /// A PGM that declares maxval 100 but holds values up to 255 (a broken writer): analysed
    /// without reading past the value table, values above maxval count as full scale.
    @Test func samplesAboveMaxvalAreClamped() throws {
        let scene = smallScene(seed: 21)
        guard case .uint8(let samples) = scene.render(.white).samples else { return }
        let header = Array("P5\n1280 800\n100\n".utf8)
        let dir = try temporaryDirectory()
        try Data(header + samples).write(to: URL(fileURLWithPath: "\(dir)/odd.pgm"))
        let (image, _) = try ImageFiles.read(path: "\(dir)/odd.pgm")
        #expect(image.maxValue == 100)
        let result = try FrameAnalyzer.analyze(image, options: AnalysisOptions(grid: LEDGrid(cols: 96, rows: 48), pattern: .white),
                                               response: .linear)
        #expect(result.registration.pixelsPerLED > 3)
    }
}
