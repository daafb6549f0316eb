// libFuzzer target for the session file parser (SessionRecord), outside SwiftPM:
//
//   swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name LEDLinkFuzz \
//       Tests/Fuzz/SessionRecordFuzz.swift Sources/LEDLink/Session/SessionRecord.swift \
//       Sources/LEDLink/DeadlineSupport.swift -o .build/session-record-fuzz
//   mkdir -p .build/fuzz-corpus && cp Tests/Fixtures/ledsentry-emu/*.session .build/fuzz-corpus/
//   .build/session-record-fuzz -max_total_time=120 -max_len=256 .build/fuzz-corpus
//
// Property: any line that parses writes back and parses to the same event, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        guard let record = try? SessionRecord(parsing: line) else { continue }
        // What parses must write back and parse to the same event.
        let again = try! SessionRecord(parsing: record.serialize()[...])
        precondition(again.kind == record.kind, "round trip changed \(record)")
    }
    return 0
}
