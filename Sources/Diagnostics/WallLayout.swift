import FrameAnalysis
import LEDControllers

/// Where wall coordinates fall in the controller's cabinets and modules, and the
/// conventions Findings use for a display: `led` and `line` in whole-wall LED coordinates
/// (0,0 top-left seen from the front), cabinets and modules numbered row-major from 0 as the
/// controller numbers them, colour channels 0 red, 1 green, 2 blue.
public struct WallLayout: Sendable, Hashable {
    public let geometry: WallGeometry

    public init(_ geometry: WallGeometry) { self.geometry = geometry }

    public var width: Int { geometry.wallWidth }
    public var height: Int { geometry.wallHeight }
    public var moduleGrid: LEDGrid { LEDGrid(cols: Int(geometry.moduleWidth), rows: Int(geometry.moduleHeight)) }
    public var ledGrid: LEDGrid { LEDGrid(cols: width, rows: height) }

    public func cabinet(x: Int, y: Int) -> Int {
        (y / geometry.cabinetHeight) * Int(geometry.cabinetColumns) + x / geometry.cabinetWidth
    }

    /// The module index inside its cabinet.
    public func module(x: Int, y: Int) -> Int {
        let cx = x % geometry.cabinetWidth, cy = y % geometry.cabinetHeight
        return (cy / Int(geometry.moduleHeight)) * Int(geometry.modulesX) + cx / Int(geometry.moduleWidth)
    }

    /// The wall rectangle of one module: x, y, width, height.
    public func rectangle(cabinet: Int, module: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let cabinetX = (cabinet % Int(geometry.cabinetColumns)) * geometry.cabinetWidth
        let cabinetY = (cabinet / Int(geometry.cabinetColumns)) * geometry.cabinetHeight
        let mw = Int(geometry.moduleWidth), mh = Int(geometry.moduleHeight)
        return (cabinetX + (module % Int(geometry.modulesX)) * mw, cabinetY + (module / Int(geometry.modulesX)) * mh, mw, mh)
    }

    /// The location of one LED (channel nil: the whole LED).
    public func location(x: Int, y: Int, channel: Int? = nil, productSerial: String? = nil,
                         controller: String? = nil) -> FaultLocation {
        FaultLocation(productSerial: productSerial, controller: controller, cabinet: cabinet(x: x, y: y),
                      module: module(x: x, y: y), led: .init(x: x, y: y), channel: channel)
    }

    /// The location of a line segment: its cabinet, and its module when it lies in one.
    public func location(line: DefectGroups.Line, productSerial: String? = nil, controller: String? = nil) -> FaultLocation {
        let (x0, y0, x1, y1) = line.orientation == .row
            ? (line.from, line.index, line.to, line.index) : (line.index, line.from, line.index, line.to)
        let sameModule = cabinet(x: x0, y: y0) == cabinet(x: x1, y: y1) && module(x: x0, y: y0) == module(x: x1, y: y1)
        return FaultLocation(productSerial: productSerial, controller: controller, cabinet: cabinet(x: x0, y: y0),
                             module: sameModule ? module(x: x0, y: y0) : nil,
                             line: .init(axis: line.orientation == .row ? .row : .column, index: line.index),
                             channel: Self.channelNumber(line.channel))
    }

    /// 0 red, 1 green, 2 blue; nil for the whole LED.
    public static func channelNumber(_ channel: FrameAnalysis.LEDChannel) -> Int? {
        switch channel {
        case .all: nil
        case .red: 0
        case .green: 1
        case .blue: 2
        }
    }

    public static func channel(number: Int?) -> FrameAnalysis.LEDChannel {
        switch number {
        case 0: .red
        case 1: .green
        case 2: .blue
        default: .all
        }
    }

    public static func channel(_ channel: LEDControllers.LEDChannel) -> FrameAnalysis.LEDChannel {
        switch channel {
        case .red: .red
        case .green: .green
        case .blue: .blue
        }
    }
}
