import CLibUSB

/// What enumeration tells about one USB device.
public struct USBDeviceInfo: Equatable, Sendable, CustomStringConvertible {
    public var vendorID: UInt16
    public var productID: UInt16
    public var bus: UInt8
    public var address: UInt8
    /// Read from the device's string descriptors; nil when it has none or may not be opened.
    public var serial: String?
    public var manufacturer: String?
    public var product: String?

    /// "usb 1209:4c53 serial LSC-0001" (or "bus 1 device 7" without a serial).
    public var portName: String {
        "usb \(hex4(vendorID)):\(hex4(productID)) " + (serial.map { "serial \($0)" } ?? "bus \(bus) device \(address)")
    }

    public var description: String {
        let words = [manufacturer, product].compactMap { $0 }
        return words.isEmpty ? portName : "\(portName) (\(words.joined(separator: ", ")))"
    }
}

/// The one place that holds libusb pointers: a context, and once opened a device handle
/// with its claimed interface. Everything above it is safe Swift.
///
/// Sendable by contract with its one owner, `USBBulkTransport`: after `open` only
/// `bulkIn` and `bulkOut` run concurrently, on different endpoints, which libusb allows;
/// `close` runs only while neither does.
final class USBDeviceHandle: @unchecked Sendable {
    private let context: OpaquePointer
    private var handle: OpaquePointer?
    private(set) var interface: Int32 = 0
    private(set) var endpointIn: UInt8 = 0
    private(set) var endpointOut: UInt8 = 0
    private(set) var info: USBDeviceInfo?

    init() throws(LinkError) {
        var context: OpaquePointer?
        try LibUSBStatus.check(libusb_init(&context), port: "libusb", operation: "initialise")
        guard let context else { throw .unsupported("libusb gave no context") }
        self.context = context
    }

    deinit {
        close()
        libusb_exit(context)
    }

    /// Every device with this VID:PID, with its strings where it may be opened.
    func list(vendorID: UInt16, productID: UInt16) throws(LinkError) -> [USBDeviceInfo] {
        let devices = try DeviceList(context)
        defer { withExtendedLifetime(devices) {} }  // its devices are used until we return
        return devices.matching(vendorID: vendorID, productID: productID).map { device, descriptor in
            var info = Self.info(device, descriptor)
            var probe: OpaquePointer?
            if libusb_open(device, &probe) == 0, let probe {
                Self.readStrings(probe, descriptor, into: &info)
                libusb_close(probe)
            }
            return info
        }
    }

    /// Opens the first matching device (with this serial, when given), claims `interface`
    /// and finds its bulk endpoints. `name` is what errors call it.
    func open(vendorID: UInt16, productID: UInt16, serial: String?, interface: Int32, name: String) throws(LinkError) {
        var lastError: LinkError?
        let devices = try DeviceList(context)
        defer { withExtendedLifetime(devices) {} }  // its devices are used until we return
        for (device, descriptor) in devices.matching(vendorID: vendorID, productID: productID) {
            var opened: OpaquePointer?
            let result = libusb_open(device, &opened)
            guard result == 0, let opened else {
                do { try LibUSBStatus.check(result, port: name, operation: "open") } catch { lastError = error }
                continue
            }
            var info = Self.info(device, descriptor)
            Self.readStrings(opened, descriptor, into: &info)
            if let serial, info.serial != serial {
                libusb_close(opened)
                continue
            }
            do {
                try claim(opened, device: device, interface: interface, name: info.portName)
            } catch {
                libusb_close(opened)
                throw error
            }
            self.handle = opened
            self.info = info
            return
        }
        throw lastError ?? .notFound(port: name)
    }

    private func claim(_ opened: OpaquePointer, device: OpaquePointer, interface: Int32, name: String) throws(LinkError) {
        // A kernel driver on our vendor-specific interface would be a mistake; let libusb
        // detach it where the platform can (NOT_SUPPORTED elsewhere is fine).
        _ = libusb_set_auto_detach_kernel_driver(opened, 1)
        try LibUSBStatus.check(libusb_claim_interface(opened, interface), port: name, operation: "claim interface \(interface)")
        do {
            (endpointIn, endpointOut) = try Self.bulkEndpoints(device, interface: interface, name: name)
        } catch {
            libusb_release_interface(opened, interface)
            throw error
        }
        self.interface = interface
    }

    /// One bulk transfer of up to `count` bytes (IN) or `bytes` (OUT); returns what moved
    /// and the libusb result, since a timeout can still have moved some bytes.
    func bulkIn(maxCount: Int, timeoutMilliseconds: UInt32) -> (bytes: [UInt8], result: Int32) {
        guard let handle else { return ([], LibUSBStatus.noDevice.rawValue) }
        var buffer = [UInt8](repeating: 0, count: maxCount)
        var moved: Int32 = 0
        let result = buffer.withUnsafeMutableBufferPointer {
            libusb_bulk_transfer(handle, endpointIn, $0.baseAddress, Int32($0.count), &moved, timeoutMilliseconds)
        }
        return (Array(buffer[..<Int(moved)]), result)
    }

    func bulkOut(_ bytes: ArraySlice<UInt8>, timeoutMilliseconds: UInt32) -> (moved: Int, result: Int32) {
        guard let handle else { return (0, LibUSBStatus.noDevice.rawValue) }
        var copy = Array(bytes)  // libusb takes a mutable pointer even for OUT
        var moved: Int32 = 0
        let result = copy.withUnsafeMutableBufferPointer {
            libusb_bulk_transfer(handle, endpointOut, $0.baseAddress, Int32($0.count), &moved, timeoutMilliseconds)
        }
        return (Int(moved), result)
    }

    func close() {
        guard let handle else { return }
        libusb_release_interface(handle, interface)
        libusb_close(handle)
        self.handle = nil
    }

    // MARK: - Enumeration helpers

    private static func info(_ device: OpaquePointer, _ descriptor: libusb_device_descriptor) -> USBDeviceInfo {
        USBDeviceInfo(vendorID: descriptor.idVendor, productID: descriptor.idProduct,
                      bus: libusb_get_bus_number(device), address: libusb_get_device_address(device))
    }

    private static func readStrings(_ handle: OpaquePointer, _ descriptor: libusb_device_descriptor,
                                    into info: inout USBDeviceInfo) {
        info.serial = string(handle, descriptor.iSerialNumber)
        info.manufacturer = string(handle, descriptor.iManufacturer)
        info.product = string(handle, descriptor.iProduct)
    }

    private static func string(_ handle: OpaquePointer, _ index: UInt8) -> String? {
        guard index != 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBufferPointer {
            libusb_get_string_descriptor_ascii(handle, index, $0.baseAddress, Int32($0.count))
        }
        return count > 0 ? String(decoding: buffer[..<Int(count)], as: UTF8.self) : nil
    }

    /// The first bulk IN and bulk OUT endpoints of the interface's first alternate setting.
    private static func bulkEndpoints(_ device: OpaquePointer, interface: Int32, name: String) throws(LinkError) -> (UInt8, UInt8) {
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        try LibUSBStatus.check(libusb_get_active_config_descriptor(device, &config), port: name, operation: "read configuration")
        guard let config else { throw .unsupported("\(name): no active configuration") }
        defer { libusb_free_config_descriptor(config) }
        guard interface < config.pointee.bNumInterfaces,
              config.pointee.interface[Int(interface)].num_altsetting > 0 else {
            throw .unsupported("\(name): has no interface \(interface)")
        }
        let setting = config.pointee.interface[Int(interface)].altsetting[0]
        var endpointIn: UInt8?, endpointOut: UInt8?
        for index in 0..<Int(setting.bNumEndpoints) {
            let endpoint = setting.endpoint[index]
            guard endpoint.bmAttributes & 0x03 == UInt8(LIBUSB_TRANSFER_TYPE_BULK.rawValue) else { continue }
            if endpoint.bEndpointAddress & 0x80 != 0 {
                endpointIn = endpointIn ?? endpoint.bEndpointAddress
            } else {
                endpointOut = endpointOut ?? endpoint.bEndpointAddress
            }
        }
        guard let endpointIn, let endpointOut else {
            throw .unsupported("\(name): interface \(interface) lacks a bulk IN and a bulk OUT endpoint")
        }
        return (endpointIn, endpointOut)
    }
}

/// libusb's device list, freed (and its devices unreferenced) when this goes away.
private final class DeviceList {
    private let list: UnsafeMutablePointer<OpaquePointer?>
    private let count: Int

    init(_ context: OpaquePointer) throws(LinkError) {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &list)
        try LibUSBStatus.check(Int32(clamping: count), port: "usb", operation: "list devices")
        guard let list else { throw .unsupported("libusb gave no device list") }
        self.list = list
        self.count = count
    }

    deinit { libusb_free_device_list(list, 1) }

    /// The devices with this VID:PID; valid while this list lives.
    func matching(vendorID: UInt16, productID: UInt16) -> [(OpaquePointer, libusb_device_descriptor)] {
        (0..<count).compactMap { index in
            guard let device = list[index] else { return nil }
            var descriptor = libusb_device_descriptor()
            guard libusb_get_device_descriptor(device, &descriptor) == 0,
                  descriptor.idVendor == vendorID, descriptor.idProduct == productID else { return nil }
            return (device, descriptor)
        }
    }
}
