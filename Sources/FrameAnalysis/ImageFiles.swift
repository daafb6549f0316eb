import CFrameAnalysis
import CLibPNG

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an image file could not be used. Every case names the file.
public enum ImageFileError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read (the OS reason is given).
    case unreadable(path: String, reason: String)
    /// The file is not PGM/PPM (P5/P6), PNG or JPEG.
    case unknownFormat(path: String)
    /// The file ends before the image data does.
    case truncated(path: String, detail: String)
    /// The file's structure or data is invalid.
    case corrupt(path: String, detail: String)
    /// A valid file this reader does not support (e.g. CMYK JPEG, ASCII PNM).
    case unsupported(path: String, detail: String)
    /// Writing failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read file: \(reason)"
        case .unknownFormat(let path):
            return "\(path): not a PGM/PPM (P5/P6), PNG or JPEG image"
        case .truncated(let path, let detail): return "\(path): truncated image: \(detail)"
        case .corrupt(let path, let detail): return "\(path): corrupt image: \(detail)"
        case .unsupported(let path, let detail): return "\(path): unsupported image: \(detail)"
        case .writeFailed(let path, let reason): return "\(path): cannot write image: \(reason)"
        }
    }
}

/// The file formats `ImageFiles` reads and writes.
public enum ImageFileFormat: String, Sendable {
    case pnm, png, jpeg

    /// The format a file name's extension asks for when writing.
    public init?(pathExtension path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".png") { self = .png }
        else if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") { self = .jpeg }
        else if lower.hasSuffix(".pgm") || lower.hasSuffix(".ppm") || lower.hasSuffix(".pnm") {
            self = .pnm
        } else { return nil }
    }
}

/// Reading and writing captures: PGM/PPM (P5/P6), PNG (libpng), JPEG (libjpeg-turbo).
public enum ImageFiles {
    /// Reads a capture, choosing the decoder from the file's first bytes.
    public static func read(path: String) throws(ImageFileError) -> (Image, ImageFileFormat) {
        // PNM pixel data is read straight into the image (no whole-file buffer), so a PGM
        // capture costs its own size in memory once.
        let prefix = try readBytes(path: path, limit: 4096)
        if prefix.count >= 2, prefix[0] == UInt8(ascii: "P"),
           prefix[1] == UInt8(ascii: "5") || prefix[1] == UInt8(ascii: "6") {
            return (try PNMCodec.read(path: path, prefix: prefix), .pnm)
        }
        let bytes = try readBytes(path: path)
        if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 {
            return (try PNGCodec.decode(bytes, path: path), .png)
        }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
            let decoded = try JPEGCodec.decode(bytes, path: path)
            return (ExifOrientation.apply(ExifOrientation.read(bytes), to: decoded), .jpeg)
        }
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"),
           (UInt8(ascii: "1")...UInt8(ascii: "4")).contains(bytes[1]) {
            throw .unsupported(path: path, detail: "ASCII or bitmap PNM (P1-P4); use binary P5/P6")
        }
        if bytes.isEmpty { throw .truncated(path: path, detail: "the file is empty") }
        throw .unknownFormat(path: path)
    }

    /// Writes `image` in `format` (default: from the path's extension, else PNG).
    /// JPEG is 8-bit only; `quality` is 1...100.
    public static func write(_ image: Image, to path: String, format: ImageFileFormat? = nil,
                             jpegQuality: Int = 90) throws(ImageFileError) {
        switch format ?? ImageFileFormat(pathExtension: path) ?? .png {
        case .pnm: try writeBytes(PNMCodec.encode(image), path: path)
        case .png: try PNGCodec.write(image, path: path)
        case .jpeg: try writeBytes(try JPEGCodec.encode(image, quality: jpegQuality, path: path),
                                   path: path)
        }
    }

    /// JPEG-encodes in memory (used by tests and the simulator).
    public static func jpegData(_ image: Image, quality: Int) throws(ImageFileError) -> [UInt8] {
        try JPEGCodec.encode(image, quality: quality, path: "<memory>")
    }

    /// Decodes a JPEG held in memory.
    public static func decodeJPEG(_ bytes: [UInt8]) throws(ImageFileError) -> Image {
        try JPEGCodec.decode(bytes, path: "<memory>")
    }

    static func readBytes(path: String, limit: Int = .max) throws(ImageFileError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var info = stat()
        guard fstat(fileno(file), &info) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw .unreadable(path: path, reason: "is a directory")
        }
        let size = min(limit, Int(info.st_size))
        var bytes = [UInt8](repeating: 0, count: size)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
        if got != size {
            throw .unreadable(path: path, reason: "short read (\(got) of \(size) bytes)")
        }
        return bytes
    }

    static func writeBytes(_ bytes: [UInt8], path: String) throws(ImageFileError) {
        guard let file = fopen(path, "wb") else {
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, file) }
        let closed = fclose(file)
        if written != bytes.count || closed != 0 {
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Binary PGM (P5) and PPM (P6), 8 or 16 bit (16-bit samples are big-endian per Netpbm).
enum PNMCodec {
    struct Header {
        let channels: Int, width: Int, height: Int, maxValue: Int
        /// Offset of the first pixel byte.
        let dataOffset: Int
        var bytesPerSample: Int { maxValue < 256 ? 1 : 2 }
        var dataCount: Int { width * height * channels * bytesPerSample }
    }

    static func header(_ bytes: [UInt8], path: String) throws(ImageFileError) -> Header {
        var position = 2
        func skipSpaceAndComments() {
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "#") {
                    while position < bytes.count, bytes[position] != 0x0A { position += 1 }
                } else if byte == 0x20 || (0x09...0x0D).contains(byte) {
                    position += 1
                } else { return }
            }
        }
        func number(_ name: String) throws(ImageFileError) -> Int {
            skipSpaceAndComments()
            guard position < bytes.count else {
                throw .truncated(path: path, detail: "header ends before the \(name)")
            }
            var value = 0
            var digits = 0
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - 0x30)
                position += 1
                digits += 1
                if value > 1 << 24 { throw .corrupt(path: path, detail: "\(name) too large") }
            }
            guard digits > 0 else { throw .corrupt(path: path, detail: "bad PNM header: no \(name)") }
            return value
        }
        let channels = bytes[1] == UInt8(ascii: "5") ? 1 : 3
        let width = try number("width")
        let height = try number("height")
        let maxValue = try number("maxval")
        guard width > 0, height > 0 else { throw .corrupt(path: path, detail: "zero image size") }
        guard (1...65535).contains(maxValue) else {
            throw .corrupt(path: path, detail: "maxval \(maxValue) outside 1...65535")
        }
        guard position < bytes.count else {
            throw .truncated(path: path, detail: "no pixel data after the header")
        }
        // One whitespace byte ends the header.
        return Header(channels: channels, width: width, height: height, maxValue: maxValue, dataOffset: position + 1)
    }

    /// Reads the pixel data from the file in rows, straight into planar samples.
    static func read(path: String, prefix: [UInt8]) throws(ImageFileError) -> Image {
        let h = try header(prefix, path: path)
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var info = stat()
        fstat(fileno(file), &info)
        let available = Int(info.st_size) - h.dataOffset
        guard available >= h.dataCount else {
            throw .truncated(path: path, detail:
                "\(h.width)x\(h.height) needs \(h.dataCount) data bytes, file has \(max(0, available))")
        }
        fseek(file, h.dataOffset, SEEK_SET)
        let plane = h.width * h.height
        let rowBytes = h.width * h.channels * h.bytesPerSample
        var row = [UInt8](repeating: 0, count: rowBytes)
        func readRow() throws(ImageFileError) {
            let got = row.withUnsafeMutableBytes { fread($0.baseAddress, 1, rowBytes, file) }
            if got != rowBytes { throw .truncated(path: path, detail: "short read of pixel data") }
        }
        // One row at a time from interleaved file order into planes; 16-bit is big-endian.
        func planar<T: FixedWidthInteger>(_ sample: (UnsafeBufferPointer<UInt8>, Int) -> T) throws(ImageFileError) -> [T] {
            var samples = [T](repeating: 0, count: plane * h.channels)
            for y in 0..<h.height {
                try readRow()
                samples.withUnsafeMutableBufferPointer { out in
                    row.withUnsafeBufferPointer { input in
                        for x in 0..<h.width {
                            for c in 0..<h.channels {
                                out[c &* plane &+ y &* h.width &+ x] = sample(input, x &* h.channels &+ c)
                            }
                        }
                    }
                }
            }
            return samples
        }
        if h.bytesPerSample == 1 {
            return Image(width: h.width, height: h.height, channels: h.channels, maxValue: h.maxValue,
                         samples: .uint8(try planar { input, i in input[i] }))
        }
        return Image(width: h.width, height: h.height, channels: h.channels, maxValue: h.maxValue,
                     samples: .uint16(try planar { input, i in UInt16(input[i &* 2]) << 8 | UInt16(input[i &* 2 &+ 1]) }))
    }

    static func encode(_ image: Image) -> [UInt8] {
        let header = "\(image.channels == 1 ? "P5" : "P6")\n\(image.width) \(image.height)\n\(image.maxValue)\n"
        var bytes = Array(header.utf8)
        let plane = image.width * image.height
        switch image.samples {
        case .uint8(let samples):
            bytes.reserveCapacity(bytes.count + samples.count)
            for index in 0..<plane {
                for channel in 0..<image.channels { bytes.append(samples[channel * plane + index]) }
            }
        case .uint16(let samples):
            bytes.reserveCapacity(bytes.count + samples.count * 2)
            for index in 0..<plane {
                for channel in 0..<image.channels {
                    let value = samples[channel * plane + index]
                    bytes.append(UInt8(value >> 8))
                    bytes.append(UInt8(value & 0xFF))
                }
            }
        }
        return bytes
    }
}

/// PNG through libpng's simplified API, which handles palette, alpha and bit-depth conversion
/// and reports errors in `png_image.message` without longjmp-ing through our frames.
enum PNGCodec {
    static func decode(_ bytes: [UInt8], path: String) throws(ImageFileError) -> Image {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&png) }
        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&png, $0.baseAddress, $0.count) }
        guard began != 0 else { throw classify(message(of: png), path: path) }
        let sixteenBit = png.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        let color = png.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let channels = color ? 3 : 1
        // 16-bit files come out linear (libpng treats them as gamma 1.0 unless tagged),
        // 8-bit ones as stored; alpha is composited onto black.
        png.format = (sixteenBit ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0) | (color ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0)
        let width = Int(png.width), height = Int(png.height)
        let count = width * height * channels
        if sixteenBit {
            var interleaved = [UInt16](repeating: 0, count: count)
            let ok = interleaved.withUnsafeMutableBytes {
                png_image_finish_read(&png, nil, $0.baseAddress, 0, nil)
            }
            guard ok != 0 else { throw classify(message(of: png), path: path) }
            return Image(width: width, height: height, channels: channels, maxValue: 65535,
                         samples: .uint16(deinterleave(interleaved, channels: channels)))
        }
        var interleaved = [UInt8](repeating: 0, count: count)
        let ok = interleaved.withUnsafeMutableBytes {
            png_image_finish_read(&png, nil, $0.baseAddress, 0, nil)
        }
        guard ok != 0 else { throw classify(message(of: png), path: path) }
        return Image(width: width, height: height, channels: channels, maxValue: 255,
                     samples: .uint8(deinterleave(interleaved, channels: channels)))
    }

    static func write(_ image: Image, path: String) throws(ImageFileError) {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        let color = image.channels == 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0
        var ok: Int32 = 0
        switch image.samples {
        case .uint8 where image.maxValue == 255, .uint16 where image.maxValue == 65535:
            break
        default:
            return try write(image.maxValue < 256 ? image.eightBit() : rescaled16(image), path: path)
        }
        switch image.samples {
        case .uint8(let samples):
            png.format = color
            let interleaved = interleave(samples, channels: image.channels)
            ok = interleaved.withUnsafeBytes { png_image_write_to_file(&png, path, 0, $0.baseAddress, 0, nil) }
        case .uint16(let samples):
            png.format = color | UInt32(PNG_FORMAT_FLAG_LINEAR)
            let interleaved = interleave(samples, channels: image.channels)
            ok = interleaved.withUnsafeBytes { png_image_write_to_file(&png, path, 0, $0.baseAddress, 0, nil) }
        }
        defer { png_image_free(&png) }
        guard ok != 0 else { throw .writeFailed(path: path, reason: message(of: png)) }
    }

    private static func rescaled16(_ image: Image) -> Image {
        guard case .uint16(let values) = image.samples else { return image }
        let scale = 65535 / Double(image.maxValue)
        return Image(width: image.width, height: image.height, channels: image.channels,
                     maxValue: 65535,
                     samples: .uint16(values.map { UInt16(min(65535, Double($0) * scale + 0.5)) }))
    }

    private static func message(of png: png_image) -> String {
        withUnsafeBytes(of: png.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func classify(_ message: String, path: String) -> ImageFileError {
        let lower = message.lowercased()
        if lower.contains("eof") || lower.contains("truncat") || lower.contains("end of") ||
            lower.contains("not enough") {
            return .truncated(path: path, detail: "libpng: \(message)")
        }
        return .corrupt(path: path, detail: "libpng: \(message)")
    }
}

/// JPEG through libjpeg-turbo, via the C helper that keeps libjpeg's longjmp inside C.
enum JPEGCodec {
    static func decode(_ bytes: [UInt8], path: String) throws(ImageFileError) -> Image {
        var text = [CChar](repeating: 0, count: 256)
        return try bytes.withUnsafeBufferPointer { (input) throws(ImageFileError) -> Image in
            var width: Int32 = 0, height: Int32 = 0, components: Int32 = 0
            guard let decoder = lsa_jpeg_decoder_create(input.baseAddress, input.count, &width,
                                                        &height, &components, &text, text.count)
            else { throw classify(text, path: path) }
            defer { lsa_jpeg_decoder_destroy(decoder) }
            let plane = Int(width) * Int(height)
            var samples = [UInt8](repeating: 0, count: plane * Int(components))
            let status = samples.withUnsafeMutableBufferPointer { buffer -> Int32 in
                let base = buffer.baseAddress!
                var planes: [UnsafeMutablePointer<UInt8>?] = (0..<Int(components)).map { base + $0 * plane }
                return lsa_jpeg_decoder_read_planar(decoder, &planes, &text, text.count)
            }
            guard status == 0 else { throw classify(text, path: path) }
            return Image(width: Int(width), height: Int(height), channels: Int(components),
                         maxValue: 255, samples: .uint8(samples))
        }
    }

    static func encode(_ image: Image, quality: Int, path: String) throws(ImageFileError) -> [UInt8] {
        let eight = image.eightBit()
        guard case .uint8(let samples) = eight.samples else { return [] }
        var text = [CChar](repeating: 0, count: 256)
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        let plane = image.width * image.height
        let status = samples.withUnsafeBufferPointer { buffer -> Int32 in
            let base = buffer.baseAddress!
            var planes: [UnsafePointer<UInt8>?] = (0..<image.channels).map { base + $0 * plane }
            return lsa_jpeg_encode_planar(&planes, Int32(image.width), Int32(image.height),
                                          Int32(image.channels), Int32(quality), &output, &size,
                                          &text, text.count)
        }
        guard status == 0, let output else {
            throw .writeFailed(path: path, reason: String(cString: text))
        }
        defer { lsa_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }

    private static func classify(_ text: [CChar], path: String) -> ImageFileError {
        let message = String(cString: text)
        let lower = message.lowercased()
        if lower.contains("premature end") || lower.contains("truncat") || lower.contains("empty") {
            return .truncated(path: path, detail: "libjpeg: \(message)")
        }
        if lower.contains("unsupported") {
            return .unsupported(path: path, detail: message)
        }
        return .corrupt(path: path, detail: "libjpeg: \(message)")
    }
}

func deinterleave<T: FixedWidthInteger>(_ input: [T], channels: Int) -> [T] {
    if channels == 1 { return input }
    let plane = input.count / channels
    var output = [T](repeating: 0, count: input.count)
    output.withUnsafeMutableBufferPointer { out in
        input.withUnsafeBufferPointer { source in
            for index in 0..<plane {
                for channel in 0..<channels {
                    out[channel &* plane &+ index] = source[index &* channels &+ channel]
                }
            }
        }
    }
    return output
}

func interleave<T: FixedWidthInteger>(_ input: [T], channels: Int) -> [T] {
    if channels == 1 { return input }
    let plane = input.count / channels
    var output = [T](repeating: 0, count: input.count)
    output.withUnsafeMutableBufferPointer { out in
        input.withUnsafeBufferPointer { source in
            for index in 0..<plane {
                for channel in 0..<channels {
                    out[index &* channels &+ channel] = source[channel &* plane &+ index]
                }
            }
        }
    }
    return output
}

/// EXIF orientation of phone JPEGs: the pixels are stored as the sensor saw them and tag
/// 0x0112 says how to turn them upright. Ignoring it would mirror or rotate LED coordinates.
enum ExifOrientation {
    /// The orientation value (1...8) from a JPEG's APP1 Exif block, or 1.
    static func read(_ jpeg: [UInt8]) -> Int {
        var position = 2
        while position + 4 <= jpeg.count, jpeg[position] == 0xFF {
            let marker = jpeg[position + 1]
            if marker == 0xDA || marker == 0xD9 { break }  // image data: no more metadata
            let length = Int(jpeg[position + 2]) << 8 | Int(jpeg[position + 3])
            let body = position + 4
            if marker == 0xE1, length >= 16, body + length - 2 <= jpeg.count,
               Array(jpeg[body..<body + 6]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                return tiffOrientation(Array(jpeg[(body + 6)..<(body + length - 2)])) ?? 1
            }
            position = body + length - 2
        }
        return 1
    }

    private static func tiffOrientation(_ tiff: [UInt8]) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little = tiff[0] == 0x49
        func u16(_ at: Int) -> Int? {
            guard at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for index in 0..<entries {
            let entry = ifd + 2 + index * 12
            if u16(entry) == 0x0112, let value = u16(entry + 8), (1...8).contains(value) { return value }
        }
        return nil
    }

    /// `image` turned upright for orientation `value` (EXIF 1...8).
    static func apply(_ value: Int, to image: Image) -> Image {
        guard value != 1, case .uint8(let samples) = image.samples else { return image }
        let w = image.width, h = image.height
        let swaps = value >= 5
        let outW = swaps ? h : w, outH = swaps ? w : h
        var out = [UInt8](repeating: 0, count: samples.count)
        for c in 0..<image.channels {
            let inBase = c * w * h, outBase = c * outW * outH
            for y in 0..<outH {
                for x in 0..<outW {
                    // Source pixel for output (x, y), per the EXIF definitions.
                    let (sx, sy): (Int, Int)
                    switch value {
                    case 2: (sx, sy) = (w - 1 - x, y)
                    case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                    case 4: (sx, sy) = (x, h - 1 - y)
                    case 5: (sx, sy) = (y, x)
                    case 6: (sx, sy) = (y, h - 1 - x)
                    case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                    default: (sx, sy) = (w - 1 - y, x)  // 8
                    }
                    out[outBase + y * outW + x] = samples[inBase + sy * w + sx]
                }
            }
        }
        return Image(width: outW, height: outH, channels: image.channels, maxValue: image.maxValue, samples: .uint8(out))
    }
}
