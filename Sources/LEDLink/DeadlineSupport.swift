extension ContinuousClock.Instant {
    /// Milliseconds left until this deadline, rounded up so a wait never ends early;
    /// 0 once it has passed. Clamped to what poll(2) and libusb/libserialport accept.
    var remainingMilliseconds: Int32 {
        let left = ContinuousClock.now.duration(to: self)
        if left <= .zero { return 0 }
        let (seconds, attoseconds) = left.components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: millis)
    }

    /// True once the deadline has passed.
    var hasPassed: Bool { ContinuousClock.now >= self }
}

/// Bytes as lower-case hex pairs separated by spaces: how sessions and errors show them.
func hexString<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    bytes.map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }.joined(separator: " ")
}
