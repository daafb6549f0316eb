// libFuzzer target for the controller protocol's frame decoder and message parsers.
// Compiled together with the codec sources (no package, no LEDLink), see Tests/Fuzz/README.md:
//   swiftc -sanitize=fuzzer,address -parse-as-library -O \
//     Sources/LEDControllers/LEDSentryV1/{CRC32,Frame,WireFormat,LEDSentryV1Protocol,LEDStatusMap}.swift \
//     Tests/Fuzz/FrameDecoderFuzz.swift -o .build/fuzz/frame-decoder
// A trap anywhere (bounds, overflow, a failed invariant below) is a finding.

/// Every message type a payload could be read as.
private let messageParsers: [([UInt8]) -> Void] = [
    { _ = try? HelloRequest(payload: $0) }, { _ = try? HelloResponse(payload: $0) },
    { _ = try? Identity(payload: $0) }, { _ = try? CabinetInfoRequest(payload: $0) },
    { _ = try? CabinetInfo(payload: $0) }, { _ = try? GetParameterRequest(payload: $0) },
    { _ = try? ParameterReading(payload: $0) }, { _ = try? SetParameterRequest(payload: $0) },
    { _ = try? ParameterValue(payload: $0) }, { _ = try? ShowPatternRequest(payload: $0) },
    { _ = try? PatternSelection(payload: $0) }, { _ = try? ModuleTestRequest(payload: $0) },
    { _ = try? ModuleTestReport(payload: $0) }, { _ = try? ReadLEDStatusRequest(payload: $0) },
    { _ = try? LEDStatusChunk(payload: $0) }, { _ = try? ReadTelemetryRequest(payload: $0) },
    { _ = try? Telemetry(payload: $0) }, { _ = try? ReadEventsRequest(payload: $0) },
    { _ = try? EventLog(payload: $0) }, { _ = try? EventRecord(payload: $0) },
    { _ = try? ClearEventsResponse(payload: $0) }, { _ = try? OutOfRangeDetail(payload: $0) },
    { _ = try? VersionRange(payload: $0) },
    // A parsed message must serialize back to exactly the bytes it came from.
    { if let m = try? Identity(payload: $0) { precondition(m.serialized == $0, "Identity round trip") } },
    { if let m = try? ModuleTestReport(payload: $0) { precondition(m.serialized == $0, "ModuleTestReport round trip") } },
    { if let m = try? EventLog(payload: $0) { precondition(m.serialized == $0, "EventLog round trip") } },
    { if let m = try? LEDStatusChunk(payload: $0) { precondition(m.serialized == $0, "LEDStatusChunk round trip") } },
]

private func frames(in bytes: [UInt8], chunk: Int) -> [Frame] {
    var decoder = FrameDecoder()
    var found: [Frame] = []
    var index = 0
    while index < bytes.count {
        decoder.append(bytes[index..<min(bytes.count, index + chunk)])
        index += chunk
        while let output = decoder.next() {
            if case .frame(let frame) = output { found.append(frame) }
        }
        precondition(decoder.bufferedCount <= Frame.maximumSize + chunk, "decoder holds more than one frame")
    }
    // Bytes that stop arriving: abandon partial frames until none is left.
    while decoder.abandonPartialFrame() != nil {
        while let output = decoder.next() {
            if case .frame(let frame) = output { found.append(frame) }
        }
    }
    return found
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = frames(in: bytes, chunk: max(1, bytes.count))
    for frame in whole {
        precondition(frame.payload.count <= Frame.maximumPayload, "oversized payload accepted")
        precondition(frame.flags.rawValue & 0xF8 == 0, "reserved flags accepted")
        let again = frame.serialized
        precondition((try? Frame(parsing: again)) == frame, "frame does not survive serialize/parse")
        for parse in messageParsers { parse(frame.payload) }
    }
    // Feeding byte by byte or in 7-byte pieces must find the same frames: chunk boundaries
    // never change what a stream means.
    if bytes.count <= 4096 {
        precondition(frames(in: bytes, chunk: 1) == whole, "byte-at-a-time decoding differs")
        precondition(frames(in: bytes, chunk: 7) == whole, "7-byte-chunk decoding differs")
    }
    // The raw input as a payload too: the parsers see every byte pattern, not only CRC-valid frames.
    for parse in messageParsers { parse(Array(bytes.prefix(Frame.maximumPayload))) }
    for byte in bytes.prefix(64) { _ = LEDStatus(rawValue: byte).map { ($0.noData, $0.condition(.red), $0.condition(.blue)) } }
    return 0
}
