/// The one masking function for every body Registrar stores or returns, and for text quoted into messages: no
/// card number (primary account number, PCI DSS) is ever kept or shown whole, only its last four digits.
///
/// Bodies are JSON (WooCommerce), form encoding (CyberSource) or anything at all (garbage, truncated), so nothing
/// is parsed: one pass over the bytes applies two rules, and every digit either rule picks, except the last four
/// of its number, becomes `x`. Only ASCII digits are replaced, one byte for one, so the length, the separators,
/// the UTF-8 and a JSON string or a form stay as they were (a card sent as a bare JSON number does not: it is
/// masked all the same).
///
/// 1. **Any card-shaped number, anywhere.** A *run* is ASCII digits in groups joined by one separator each:
///    a space, `-`, `+` (form encoding's space) or `%20`, `%2D`, `%2B`. Every stretch of whole consecutive
///    groups holding 13 to 19 digits that passes the Luhn check is masked, so `4111 1111 1111 1111` is found
///    after a phone number in the same run too. Never split: a group of digits (a card number inside 22 digits
///    of a transaction id is not a card), and a group of more than 19 digits is never part of a number. An
///    escape (`%XX`, `\uXXXX`) is one character and never digits: `%C3%A94111…` is "é" then a card, and no
///    escape is ever masked into an invalid one.
/// 2. **A field named as a card number.** A name containing "cardnumber" in any case, with `_`, `-`, `.`,
///    space, `+`, `[` or `]` (escaped or not) anywhere between its letters (`req_card_number`,
///    `REQ_CARD_NUMBER`, `cardNumber`, `card[number]`, `credit-card-number`), then an optional closing quote
///    (`"`, `'` or JSON-escaped `\"`), blanks, `=` or `:`, blanks, and its value: up to the closing quote when
///    quoted, else up to `&`, `,`, `;`, `}`, `]`, a quote, `<`, `=`, `:` or a line break; at most 96 bytes. A value with
///    more than four digits keeps only its last four, whatever their number or check digit (the name says it is
///    a card). `%XX` and `\uXXXX` escapes in the value are not counted as digits, so they stay valid escapes.
///
/// Already masked numbers (`xxxxxxxxxxxx1111`) have four digits and stay as they are.
public enum CardNumberMasking {
    /// The body with every card number cut to its last four digits; the very same array (no copy) when there is
    /// nothing to mask.
    public static func masked(_ body: [UInt8]) -> [UInt8] {
        body.withUnsafeBufferPointer { maskedCopy($0) } ?? body
    }

    public static func masked(_ text: String) -> String {
        maskedIfNeeded(text) ?? text
    }

    /// The text with its card numbers masked, or nil when it holds none.
    public static func maskedIfNeeded(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { maskedCopy($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether `byte` can start something the pass looks at (the table the eight-byte skip stands in for).
    static func startsSomething(_ byte: UInt8) -> Bool { mayStart[Int(byte)] == 1 }

    /// Whether a field's name says it holds a card number: rule 2's name, applied to a name already decoded.
    public static func isCardNumberField(_ name: String) -> Bool {
        var matcher = NameMatcher()
        for byte in name.utf8 where matcher.feed(byte) { return true }
        return false
    }

    /// Whether `digits` (ASCII digits only) pass the Luhn check.
    public static func isLuhnValid<Digits: Collection<UInt8>>(_ digits: Digits) -> Bool {
        var sum = 0
        var double = false
        for byte in digits.reversed() {
            guard byte &- ascii0 < 10 else { return false }
            var digit = Int(byte &- ascii0)
            if double { digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2 }
            sum += digit
            double.toggle()
        }
        return !digits.isEmpty && sum % 10 == 0
    }

    /// The masked bytes, or nil when nothing in `bytes` is a card number.
    static func maskedCopy(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        // The shortest thing either rule masks is 13 digits ("cardnumber:12345" is longer): most header values and
        // reasons are shorter.
        guard bytes.count >= shortest else { return nil }
        return mayStart.withUnsafeBufferPointer { mayStart in
            var scan = Scan(bytes: bytes, mayStart: mayStart)
            scan.run()
            return scan.out
        }
    }

    /// 1 for the bytes that can start something to look at (a digit, `%`, `\`, `c`, `C`), 0 for the rest: most
    /// of a body is skipped at one table look-up per byte.
    private static let mayStart: [UInt8] = (0...255).map { (value: Int) -> UInt8 in
        let byte = UInt8(value)
        return isDigit(byte) || byte == percent || byte == backslash || byte | 0x20 == UInt8(ascii: "c") ? 1 : 0
    }

    /// Shortest and longest card numbers (ISO/IEC 7812), and how many digits are kept.
    static let shortest = 13
    static let longest = 19
    static let kept = 4
    /// Bounds on what rule 2 reads past the matched name, so a hostile body cannot make the pass quadratic.
    static let nameTailLimit = 64
    static let valueLimit = 96
}

private let ascii0 = UInt8(ascii: "0")
private let maskByte = UInt8(ascii: "x")
private let percent = UInt8(ascii: "%")
private let backslash = UInt8(ascii: "\\")
private let quote = UInt8(ascii: "\"")
private let apostrophe = UInt8(ascii: "'")

@inline(__always) private func isDigit(_ byte: UInt8) -> Bool { byte &- ascii0 < 10 }

@inline(__always) private func hexValue(_ byte: UInt8) -> UInt8? {
    if byte &- ascii0 < 10 { return byte &- ascii0 }
    let lower = byte | 0x20
    if lower &- UInt8(ascii: "a") < 6 { return lower &- UInt8(ascii: "a") + 10 }
    return nil
}

private let everyByte: UInt64 = 0x0101_0101_0101_0101
private let highBits: UInt64 = 0x8080_8080_8080_8080

/// Whether any byte of `word` is zero (exact: a borrow only ever marks bytes above a zero one).
@inline(__always) private func hasZeroByte(_ word: UInt64) -> Bool {
    (word &- everyByte) & ~word & highBits != 0
}

/// Whether any of the eight bytes could start something to look at, as the `mayStart` table has it: a digit,
/// `%`, `\`, `c` or `C`. May say yes for none (then the byte loop finds nothing); never says no for one.
@inline(__always) func mayStartAny(_ word: UInt64) -> Bool {
    // A byte in 0x30...0x39 (bit hacks' "hasbetween" for 0x2F < byte < 0x3A; bytes from 0x80 up never count).
    let low7 = word & (everyByte &* 127)
    let digit = ((everyByte &* (127 + 0x3A)) &- low7) & ~word & (low7 &+ everyByte &* (127 - 0x2F)) & highBits
    return digit != 0 || hasZeroByte(word ^ (everyByte &* 0x25)) || hasZeroByte(word ^ (everyByte &* 0x5C))
        || hasZeroByte((word | (everyByte &* 0x20)) ^ (everyByte &* 0x63))
}

/// Characters that may stand between the letters of "cardnumber" in a field name.
@inline(__always) private func isNameFiller(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: " "), UInt8(ascii: "+"),
         UInt8(ascii: "["), UInt8(ascii: "]"): true
    default: false
    }
}

/// Characters that may follow "cardnumber" in the rest of a field's name.
@inline(__always) private func isNameByte(_ byte: UInt8) -> Bool {
    let lower = byte | 0x20
    return lower &- UInt8(ascii: "a") < 26 || isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
}

/// Where an unquoted value named as a card number ends.
@inline(__always) private func endsValue(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "&"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "}"), UInt8(ascii: "]"), quote, apostrophe,
         UInt8(ascii: "<"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "="), UInt8(ascii: ":"): true
    default: false
    }
}

/// "cardnumber" found case-insensitively, fillers allowed between its letters once the first has matched.
private struct NameMatcher {
    private static let pattern: StaticString = "cardnumber"
    private(set) var matched = 0

    /// Feeds one (decoded) byte; true when it completes the name.
    @inline(__always) mutating func feed(_ byte: UInt8) -> Bool {
        if matched > 0 && isNameFiller(byte) { return false }
        // `| 0x20` lower-cases a letter and never turns anything else into a lower-case letter.
        let lower = byte | 0x20
        if lower == Self.pattern.utf8Start[matched] {
            matched += 1
            if matched == Self.pattern.utf8CodeUnitCount {
                matched = 0
                return true
            }
        } else {
            matched = lower == UInt8(ascii: "c") ? 1 : 0
        }
        return false
    }

    mutating func reset() { matched = 0 }
}

private struct Scan {
    let bytes: UnsafeBufferPointer<UInt8>
    let mayStart: UnsafeBufferPointer<UInt8>
    /// Made on the first digit masked; nil means the input is unchanged.
    var out: [UInt8]?

    init(bytes: UnsafeBufferPointer<UInt8>, mayStart: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.mayStart = mayStart
    }

    @inline(__always) mutating func mask(_ index: Int) {
        if out == nil { out = Array(bytes) }
        out![index] = maskByte
    }

    mutating func run() {
        let count = bytes.count
        var matcher = NameMatcher()
        var index = 0
        while index < count {
            if matcher.matched == 0 {
                // The common case: nothing that can start a number, an escape or the name.
                // Eight bytes at a time first: every delivery's body goes through here, most of it skipped.
                if let base = bytes.baseAddress {
                    while index + 8 <= count, !mayStartAny(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) {
                        index += 8
                    }
                }
                while index < count && mayStart[Int(bytes[index])] == 0 { index += 1 }
                if index == count { break }
            }
            let byte = bytes[index]
            if isDigit(byte) {
                index = digitRun(from: index)
                matcher.reset()
                continue
            }
            // An escape (`%XX`, `\uXXXX`) is one character, never digits: "%C3%A9" is "é", not a 3 and a 9 that
            // could join the number after it, and masking its hex digits would break the escape.
            let width = escapeWidth(at: index, in: count)
            if width > 0 {
                let decoded = width == 3 ? hexValue(bytes[index + 1])! << 4 | hexValue(bytes[index + 2])! : escapedASCII(at: index)
                // Decoded for the name, so that "card%5Fnumber" is one.
                if matcher.feed(decoded) { fieldValue(afterName: index + width) }
                index += width
                continue
            }
            if matcher.feed(byte) { fieldValue(afterName: index + 1) }
            index += 1
        }
    }

    /// The character of a `\uXXXX` escape when it is ASCII, else 0 (which matches nothing).
    func escapedASCII(at index: Int) -> UInt8 {
        guard bytes[index + 2] == UInt8(ascii: "0"), bytes[index + 3] == UInt8(ascii: "0"),
              let high = hexValue(bytes[index + 4]), high < 8, let low = hexValue(bytes[index + 5]) else { return 0 }
        return high << 4 | low
    }

    /// The width of the run separator at `index`, 0 when there is none.
    @inline(__always) func separatorWidth(at index: Int) -> Int {
        guard index < bytes.count else { return 0 }
        switch bytes[index] {
        case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "+"):
            return 1
        case percent:
            guard index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "2") else { return 0 }
            switch bytes[index + 2] | 0x20 {
            case UInt8(ascii: "0"), UInt8(ascii: "d"), UInt8(ascii: "b"): return 3
            default: return 0
            }
        default:
            return 0
        }
    }

    @inline(__always) func digitsEnd(from start: Int) -> Int {
        var index = start
        while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        return index
    }

    /// Reads the run starting at `start` (a digit), masks the card numbers in it, and returns where it ends.
    mutating func digitRun(from start: Int) -> Int {
        var index = start
        var digits = 0
        while true {
            let groupEnd = digitsEnd(from: index)
            digits += groupEnd - index
            index = groupEnd
            let width = separatorWidth(at: index)
            guard width > 0, index + width < bytes.count, isDigit(bytes[index + width]) else { break }
            index += width
        }
        if digits >= CardNumberMasking.shortest { maskCards(from: start, to: index) }
        return index
    }

    /// Where a group of a run starts and ends, and the run's Luhn sums before it (see `maskCards`).
    struct Group {
        var start: Int
        var end: Int
        var evenBefore: Int
        var oddBefore: Int
        var count: Int { end - start }
    }

    /// Every stretch of whole groups of the run [start, end) with 13–19 digits that passes the Luhn check.
    ///
    /// One pass, however long the run ("1 1 1 …" of a megabyte): two prefix sums of the run's digits, one doubling
    /// the digits at even positions and one those at odd positions, give the Luhn sum of any stretch as a
    /// difference (the last digit is never doubled, so the stretch's parity picks the sum). The groups a stretch
    /// can span (at most 19) are kept in a ring on the stack. The stretches ending at one group share their last
    /// four digits, so only the longest valid one is masked, and the digits already masked are not gone over again.
    mutating func maskCards(from start: Int, to end: Int) {
        let capacity = 32  // a power of two above 19 + 1
        withUnsafeTemporaryAllocation(of: Group.self, capacity: capacity) { ring in
            var index = start
            var number = 0          // of the current group in the run
            var first = 0           // the first group of the stretch ending at the current one
            var total = 0           // digits from group `first` to the current one, at most 19
            var even = 0, odd = 0   // the prefix sums
            var position = 0        // digits read so far
            // The last stretch masked: its digits from `maskedFrom` up to `maskedTo` are all masked.
            var maskedFrom = start, maskedTo = start
            while index < end {
                var group = Group(start: index, end: index, evenBefore: even, oddBefore: odd)
                while index < end && isDigit(bytes[index]) {
                    let digit = Int(bytes[index] &- ascii0)
                    let doubled = digit > 4 ? digit * 2 - 9 : digit * 2
                    if position & 1 == 0 { even += doubled; odd += digit } else { even += digit; odd += doubled }
                    position += 1
                    index += 1
                }
                group.end = index
                (ring.baseAddress! + (number & (capacity - 1))).initialize(to: group)
                if group.count > CardNumberMasking.longest {
                    first = number + 1
                    total = 0
                } else {
                    total += group.count
                    while total > CardNumberMasking.longest {
                        total -= ring[first & (capacity - 1)].count
                        first += 1
                    }
                    // The last digit read is never doubled: if its position is odd, the doubled ones are even.
                    let lastIsOdd = (position - 1) & 1 == 1
                    var candidate = first
                    var digits = total
                    while digits >= CardNumberMasking.shortest {
                        let from = ring[candidate & (capacity - 1)]
                        let sum = lastIsOdd ? even - from.evenBefore : odd - from.oddBefore
                        if sum % 10 == 0 {
                            let cutoff = lastFourStart(ring, capacity, number)
                            if maskedTo < from.start {
                                maskDigits(from: from.start, to: cutoff)
                                maskedFrom = from.start
                            } else {
                                // Joins the masked stretch: mask only what it adds on either side.
                                if from.start < maskedFrom {
                                    maskDigits(from: from.start, to: maskedFrom)
                                    maskedFrom = from.start
                                }
                                maskDigits(from: maskedTo, to: cutoff)
                            }
                            maskedTo = max(maskedTo, cutoff)
                            break
                        }
                        digits -= from.count
                        candidate += 1
                    }
                }
                number += 1
                if index < end { index += separatorWidth(at: index) }
            }
        }
    }

    /// Where the last four digits up to group `number` start.
    func lastFourStart(_ ring: UnsafeMutableBufferPointer<Group>, _ capacity: Int, _ number: Int) -> Int {
        var needed = CardNumberMasking.kept
        var current = number
        while true {
            let group = ring[current & (capacity - 1)]
            if group.count >= needed { return group.end - needed }
            needed -= group.count
            current -= 1
        }
    }

    /// Masks every digit in [start, end), a stretch of a run (so `%` starts a three-byte separator).
    mutating func maskDigits(from start: Int, to end: Int) {
        var index = start
        while index < end {
            let byte = bytes[index]
            if isDigit(byte) {
                mask(index)
                index += 1
            } else {
                index += byte == percent ? 3 : 1
            }
        }
    }

    /// Rule 2, from just after "cardnumber": the rest of the name, the delimiter, the value.
    mutating func fieldValue(afterName start: Int) {
        let count = bytes.count
        var index = start
        let nameLimit = min(count, start + CardNumberMasking.nameTailLimit)
        while index < nameLimit {
            if isNameByte(bytes[index]) {
                index += 1
            } else if case let width = escapeWidth(at: index, in: count), width > 0 {
                index += width
            } else {
                break
            }
        }
        if index + 1 < count, bytes[index] == backslash, bytes[index + 1] == quote {
            index += 2
        } else if index < count, bytes[index] == quote || bytes[index] == apostrophe {
            index += 1
        }
        index = skipBlanks(from: index)
        guard index < count, bytes[index] == UInt8(ascii: "=") || bytes[index] == UInt8(ascii: ":") else { return }
        index = skipBlanks(from: index + 1)
        guard index < count else { return }
        var closing: UInt8?
        if bytes[index] == quote || bytes[index] == apostrophe {
            closing = bytes[index]
            index += 1
        } else if index + 1 < count, bytes[index] == backslash, bytes[index + 1] == quote {
            closing = quote
            index += 2
        }
        let valueStart = index
        let limit = min(count, valueStart + CardNumberMasking.valueLimit)
        if let closing {
            while index < limit && bytes[index] != closing { index += 1 }
        } else {
            while index < limit && !endsValue(bytes[index]) { index += 1 }
        }
        maskValue(from: valueStart, to: index)
    }

    func skipBlanks(from start: Int) -> Int {
        var index = start
        let limit = min(bytes.count, start + 16)
        while index < limit,
              bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") || bytes[index] == UInt8(ascii: "+") {
            index += 1
        }
        return index
    }

    /// 3 for `%XX`, 6 for `\uXXXX`, else 0: escapes whose hex digits are not the value's digits.
    @inline(__always) func escapeWidth(at index: Int, in end: Int) -> Int {
        let byte = bytes[index]
        if byte == percent, index + 2 < end, hexValue(bytes[index + 1]) != nil, hexValue(bytes[index + 2]) != nil {
            return 3
        }
        if byte == backslash, index + 5 < end, bytes[index + 1] == UInt8(ascii: "u"),
           hexValue(bytes[index + 2]) != nil, hexValue(bytes[index + 3]) != nil, hexValue(bytes[index + 4]) != nil,
           hexValue(bytes[index + 5]) != nil {
            return 6
        }
        return 0
    }

    /// Every digit of [start, end) but the last four, whatever they are.
    mutating func maskValue(from start: Int, to end: Int) {
        var digits = 0
        var index = start
        while index < end {
            if isDigit(bytes[index]) {
                digits += 1
                index += 1
            } else {
                index += max(1, escapeWidth(at: index, in: end))
            }
        }
        guard digits > CardNumberMasking.kept else { return }
        var position = 0
        index = start
        while index < end && position < digits - CardNumberMasking.kept {
            if isDigit(bytes[index]) {
                mask(index)
                position += 1
                index += 1
            } else {
                index += max(1, escapeWidth(at: index, in: end))
            }
        }
    }
}
