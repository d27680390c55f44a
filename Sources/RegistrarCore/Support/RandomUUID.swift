/// A random (version 4) UUID in lower case, from the system's random generator.
///
/// Foundation's `UUID()` opens and reads `/dev/urandom` on every call on Linux: two system calls and a file
/// descriptor per webhook delivery. `SystemRandomNumberGenerator` uses `getrandom`.
public enum RandomUUID {
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var high = generator.next()
        var low = generator.next()
        high = (high & ~0xF000) | 0x4000 // version 4
        low = (low & ~(0xC << 60)) | (0x8 << 60) // RFC 4122 variant
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, word) in [high, low].enumerated() {
            for nibble in stride(from: 60, through: 0, by: -4) {
                let position = index * 16 + (60 - nibble) / 4
                if position == 8 || position == 12 || position == 16 || position == 20 { text.append(UInt8(ascii: "-")) }
                text.append(digits[Int((word >> UInt64(nibble)) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}
