// swift-tools-version:6.1
// LEDSentry: diagnose LED display walls and LED lighting, and turn faults into warranty cases.
// Data flows one way: LEDLink -> LEDControllers / LEDLighting -> FrameAnalysis -> Diagnostics
// -> Warranty -> CLI. Lower targets never depend on higher ones.
import PackageDescription

let package = Package(
    name: "LEDSentry",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ledsentry", targets: ["ledsentry"]),
        .executable(name: "ledsentry-bench", targets: ["ledsentry-bench"]),
        .library(name: "LEDLink", targets: ["LEDLink"]),
        .library(name: "LEDControllers", targets: ["LEDControllers"]),
        .library(name: "LEDLighting", targets: ["LEDLighting"]),
        .library(name: "FrameAnalysis", targets: ["FrameAnalysis"]),
        .library(name: "Diagnostics", targets: ["Diagnostics"]),
        .library(name: "Warranty", targets: ["Warranty"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(name: "CLibSerialPort", pkgConfig: "libserialport",
                       providers: [.apt(["libserialport-dev"])]),
        .systemLibrary(name: "CLibUSB", pkgConfig: "libusb-1.0",
                       providers: [.apt(["libusb-1.0-0-dev"])]),
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),

        // Room 1: bytes to and from hardware.
        .target(name: "LEDLink", dependencies: [
            "CLibSerialPort", "CLibUSB",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Room 2: device protocols.
        .target(name: "LEDControllers", dependencies: ["LEDLink"]),
        .target(name: "LEDLighting", dependencies: ["LEDLink"]),
        // Room 3: images in, defects out. No I/O to hardware, no warranty.
        .target(name: "FrameAnalysis", dependencies: ["CLibPNG", "CLibJPEG", "CFrameAnalysis"]),
        // libjpeg's error handling longjmps; this C helper keeps setjmp/longjmp inside C frames,
        // and holds the measured hot loops of FrameAnalysis.
        .target(name: "CFrameAnalysis", linkerSettings: [.linkedLibrary("jpeg")]),
        // Room 4: sessions composing the rooms above into Findings.
        .target(name: "Diagnostics", dependencies: [
            "LEDControllers", "LEDLighting", "FrameAnalysis",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Room 5: policy, cases, evidence, store, hooks.
        .target(name: "Warranty", dependencies: [
            "Diagnostics",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ], resources: [.copy("Resources")]),

        // The CLI: parse, call, print.
        .executableTarget(name: "ledsentry", dependencies: [
            "LEDLink", "LEDControllers", "LEDLighting", "FrameAnalysis", "Diagnostics", "Warranty",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "ledsentry-bench", dependencies: [
            "LEDLink", "LEDControllers", "LEDLighting", "FrameAnalysis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Link tests: real PTYs, and the real libserialport / libusb code in a umockdev testbed.
        .testTarget(name: "LEDLinkTests", dependencies: ["LEDLink"]),
        // Lighting tests: codec vectors, discovery fakes, the widget emulator on a PTY, OLA.
        .testTarget(name: "LEDLightingTests", dependencies: ["LEDLighting", "LEDLink"]),
        // Warranty room tests: policy, store, cases, bundles, hooks, and the built CLI under kill -9.
        .testTarget(name: "WarrantyTests", dependencies: [
            "Warranty", "Diagnostics",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // Frame analysis: seeded simulated captures against ground truth, real image files, the built CLI.
        .testTarget(name: "FrameAnalysisTests", dependencies: ["FrameAnalysis", "CLibPNG"]),
    ]
)
