import Foundation
import Testing
@testable import FrameAnalysis

/// Runs the built `ledsentry` executable (it sits next to the test bundle; `swift build
/// --build-tests` builds it).
struct CLIRun {
    let status: Int32
    let stdout: String
    let stderr: String

    static var executable: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ledsentry").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/release/ledsentry").path
    }

    init(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        stdout = String(decoding: outData, as: UTF8.self)
        stderr = String(decoding: errData, as: UTF8.self)
    }

    var jsonLines: [[String: Any]] {
        stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

@Suite(.serialized) struct AnalyzeCLITests {
    @Test func jsonOutputMatchesTheGroundTruth() throws {
        let dir = try temporaryDirectory()
        let scene = smallScene(seed: 11)
        try ImageFiles.write(scene.render(.white), to: "\(dir)/white.png")
        let run = try CLIRun(["analyze", "--grid", "96x48", "--pattern", "white", "--json", "\(dir)/white.png"])
        #expect(run.status == 1, "defects found means exit 1: \(run.stderr)")
        let lines = run.jsonLines
        try #require(lines.count == 1, "\(run.stdout)")
        let object = lines[0]
        #expect(object["capture"] as? String == "\(dir)/white.png")
        #expect((object["grid"] as? [String: Int]) == ["cols": 96, "rows": 48])
        #expect(object["pattern"] as? String == "white")
        let defects = try #require(object["defects"] as? [[String: Any]])
        let found = Set(defects.map {
            LEDDefect(x: $0["x"] as! Int, y: $0["y"] as! Int, kind: DefectKind(rawValue: $0["kind"] as! String)!,
                      channel: LEDChannel(rawValue: $0["channel"] as! String)!)
        })
        #expect(found == Set(scene.display.truth(for: .white).defects))
        for key in ["lines", "modules", "clusters", "uniformity", "defectsPerMillion", "pixelFaultClass"] {
            #expect(object[key] != nil, "missing key \(key)")
        }
    }

    @Test func batchContinuesAfterABadFile() throws {
        let dir = try temporaryDirectory()
        let scene = smallScene(seed: 12, channels: 3)
        var camera = scene.camera
        camera.srgb = true
        let jpegScene = CaptureSimulator(display: scene.display, camera: camera)
        try ImageFiles.write(scene.render(.white), to: "\(dir)/a.pgm")
        try ImageFiles.write(jpegScene.render(.white), to: "\(dir)/b.jpg", jpegQuality: 90)
        try Data("P5\n1280 800\n255\n".utf8 + [UInt8](repeating: 9, count: 1000)).write(to: URL(fileURLWithPath: "\(dir)/truncated.pgm"))
        let run = try CLIRun(["analyze", "--grid", "96x48", "--pattern", "white", "--json",
                              "\(dir)/a.pgm", "\(dir)/truncated.pgm", "\(dir)/b.jpg", "\(dir)/missing.png"])
        #expect(run.status == 4)
        let lines = run.jsonLines
        #expect(lines.count == 4)
        #expect(lines.map { $0["capture"] as? String } == ["\(dir)/a.pgm", "\(dir)/truncated.pgm", "\(dir)/b.jpg", "\(dir)/missing.png"])
        #expect(lines[0]["defects"] != nil && lines[2]["defects"] != nil)
        #expect((lines[2]["response"] as? String) == "srgb")
        #expect((lines[1]["error"] as? String)?.contains("truncated") == true)
        #expect((lines[3]["error"] as? String)?.contains("No such file") == true)
        #expect(run.stderr.contains("\(dir)/truncated.pgm"))
    }

    @Test func blackPatternWithReferenceAndAnnotation() throws {
        let dir = try temporaryDirectory()
        let scene = smallScene(seed: 13)
        try ImageFiles.write(scene.render(.white), to: "\(dir)/white.png")
        try ImageFiles.write(scene.render(.black), to: "\(dir)/black.png")
        let run = try CLIRun(["analyze", "--grid", "96x48", "--pattern", "black", "--reference", "\(dir)/white.png",
                              "--annotate", "\(dir)/out", "\(dir)/black.png"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdout.contains("stuck"))
        let (annotated, _) = try ImageFiles.read(path: "\(dir)/out/black-annotated.png")
        #expect(annotated.channels == 3 && annotated.width == 1280)
    }

    @Test func usageErrors() throws {
        let noReference = try CLIRun(["analyze", "--grid", "96x48", "--pattern", "black", "x.png"])
        #expect(noReference.status == 2)
        #expect(noReference.stderr.contains("--reference"))
        let badGrid = try CLIRun(["analyze", "--grid", "96by48", "--pattern", "white", "x.png"])
        #expect(badGrid.status == 2 && badGrid.stderr.contains("--grid"))
        let badPattern = try CLIRun(["analyze", "--grid", "96x48", "--pattern", "purple", "x.png"])
        #expect(badPattern.status == 2 && badPattern.stderr.contains("--pattern"))
    }

    @Test func wrongGridAndHealthyDisplay() throws {
        let dir = try temporaryDirectory()
        let display = SimulatedDisplay.random(cols: 96, rows: 48, seed: 14, mix: .healthy)
        let scene = CaptureSimulator(display: display, camera: smallScene(seed: 14).camera)
        try ImageFiles.write(scene.render(.white), to: "\(dir)/healthy.png")
        let healthy = try CLIRun(["analyze", "--grid", "96x48", "--pattern", "white", "\(dir)/healthy.png"])
        #expect(healthy.status == 0, "\(healthy.stdout) \(healthy.stderr)")
        #expect(healthy.stdout.contains("0 defective"))
        let wrong = try CLIRun(["analyze", "--grid", "64x32", "--pattern", "white", "\(dir)/healthy.png"])
        #expect(wrong.status == 4)
        #expect(wrong.stderr.contains("healthy.png") && wrong.stderr.contains("grid"), "\(wrong.stderr)")
    }
}
