import Foundation

/// Draws what an analysis found onto the capture, for a person to look at (warranty
/// evidence): the display outline in green; dead LEDs in red, dim in orange, stuck in
/// magenta; dead lines and modules as rectangles in their kind's colour.
public enum Annotator {
    public static let outlineColor: SIMD3<UInt8> = [40, 220, 60]
    public static func color(of kind: DefectKind) -> SIMD3<UInt8> {
        switch kind {
        case .dead: return [255, 40, 40]
        case .dim: return [255, 170, 0]
        case .stuck: return [255, 0, 255]
        }
    }

    /// An 8-bit RGB picture no larger than `maxSide` pixels on its long side.
    public static func annotate(_ capture: Image, result: AnalysisResult, response: Response,
                                maxSide: Int = 2400) -> Image {
        let scale = max(1, (max(capture.width, capture.height) + maxSide - 1) / maxSide)
        var canvas = Canvas(background: capture, response: response, scale: scale)
        let registration = result.registration
        func mapped(_ p: Point) -> Point { Point((p.x + 0.5) / Double(scale) - 0.5, (p.y + 0.5) / Double(scale) - 0.5) }
        let outline = registration.outline.map(mapped)
        for i in 0..<4 { canvas.line(outline[i], outline[(i + 1) % 4], color: outlineColor, width: 2) }
        var grouped = Set<Int>()
        let cols = result.grid.cols
        func cellBox(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ kind: DefectKind) {
            let corners = [registration.cameraPosition(Double(x0) - 0.5, Double(y0) - 0.5),
                           registration.cameraPosition(Double(x1) + 0.5, Double(y0) - 0.5),
                           registration.cameraPosition(Double(x1) + 0.5, Double(y1) + 0.5),
                           registration.cameraPosition(Double(x0) - 0.5, Double(y1) + 0.5)].map(mapped)
            for i in 0..<4 { canvas.line(corners[i], corners[(i + 1) % 4], color: color(of: kind), width: 2) }
        }
        for module in result.groups.modules {
            cellBox(module.x, module.y, module.x + module.width - 1, module.y + module.height - 1, .dead)
            for y in module.y..<module.y + module.height { for x in module.x..<module.x + module.width { grouped.insert(y * cols + x) } }
        }
        for line in result.groups.lines {
            if line.orientation == .row {
                cellBox(line.from, line.index, line.to, line.index, .dead)
                for x in line.from...line.to { grouped.insert(line.index * cols + x) }
            } else {
                cellBox(line.index, line.from, line.index, line.to, .dead)
                for y in line.from...line.to { grouped.insert(y * cols + line.index) }
            }
        }
        let radius = max(3.0, 0.9 * registration.pixelsPerLED / Double(scale))
        for defect in result.defects.defects where !grouped.contains(defect.y * cols + defect.x) {
            let c = mapped(registration.cameraPosition(Double(defect.x), Double(defect.y)))
            canvas.circle(c, radius: radius, color: color(of: defect.kind))
        }
        return canvas.image
    }
}

/// A small RGB raster with line and circle drawing.
struct Canvas {
    let width: Int
    let height: Int
    var pixels: [UInt8]  // planar RGB

    /// The capture shrunk by box averaging, shown sRGB-encoded and dimmed so marks stand out.
    init(background: Image, response: Response, scale: Int) {
        width = max(1, background.width / scale)
        height = max(1, background.height / scale)
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        let table = response.table(maxValue: background.maxValue)
        let encode = (0..<256).map { UInt8(min(255, srgbEncode(Double($0) / 255) * 255 * 0.7 + 0.5)) }
        for c in 0..<3 {
            let source = background.channels == 3 ? c : 0
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for yy in y * scale..<(y + 1) * scale {
                        for xx in x * scale..<(x + 1) * scale {
                            sum += table[background.sample(x: xx, y: yy, channel: source)]
                        }
                    }
                    let linear = min(1, sum / Float(scale * scale))
                    pixels[(c * height + y) * width + x] = encode[Int(linear * 255)]
                }
            }
        }
    }

    var image: Image {
        Image(width: width, height: height, channels: 3, maxValue: 255, samples: .uint8(pixels))
    }

    mutating func dot(_ x: Int, _ y: Int, _ color: SIMD3<UInt8>) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        for c in 0..<3 { pixels[(c * height + y) * width + x] = color[c] }
    }

    mutating func line(_ a: Point, _ b: Point, color: SIMD3<UInt8>, width lineWidth: Int) {
        let steps = Int(max(abs(b.x - a.x), abs(b.y - a.y)).rounded(.up)) + 1
        for i in 0...steps {
            let t = Double(i) / Double(steps)
            let x = Int((a.x + (b.x - a.x) * t).rounded()), y = Int((a.y + (b.y - a.y) * t).rounded())
            for dy in 0..<lineWidth { for dx in 0..<lineWidth { dot(x + dx, y + dy, color) } }
        }
    }

    mutating func circle(_ centre: Point, radius: Double, color: SIMD3<UInt8>) {
        let steps = max(16, Int(radius * 7))
        for i in 0..<steps {
            let angle = 2 * Double.pi * Double(i) / Double(steps)
            dot(Int((centre.x + radius * cos(angle)).rounded()), Int((centre.y + radius * sin(angle)).rounded()), color)
        }
    }
}
