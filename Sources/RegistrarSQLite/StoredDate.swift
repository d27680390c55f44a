import Foundation
import GRDB
import RegistrarCore

/// The text GRDB stores for a `Date` ("yyyy-MM-dd HH:mm:ss.SSS", UTC), written without a DateFormatter.
///
/// GRDB formats every bound `Date` through one shared ICU formatter, which costs more than the insert it is
/// bound to; intake binds five or six instants per delivery. Same text as GRDB's, so stored values compare
/// and sort exactly as before (a test checks it against GRDB over many instants).
enum StoredDate {
    static func text(_ date: Date) -> String {
        // Rounded to the nearest millisecond, halves upwards, as ICU does (not truncated).
        let milliseconds = ((date.timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down)
        // 1900–9999 only: ICU switches to the Julian calendar before 1582 and pads differently past 9999, so
        // anything outside (never a real instant here) takes GRDB's own path.
        guard milliseconds >= -2_208_988_800_000, milliseconds < 253_402_300_800_000 else {
            return String.fromDatabaseValue(date.databaseValue) ?? ""
        }
        let (days, inDay) = CivilCalendar.floorDivision(Int(milliseconds), by: 86_400_000)
        let (year, month, day) = CivilCalendar.civil(fromDays: days)
        let hour = inDay / 3_600_000
        let minute = inDay / 60_000 % 60
        let second = inDay / 1000 % 60
        let millisecond = inDay % 1000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(23)
        let fields: [(value: Int, digits: Int, then: UInt8?)] = [
            (year, 4, UInt8(ascii: "-")), (month, 2, UInt8(ascii: "-")), (day, 2, UInt8(ascii: " ")),
            (hour, 2, UInt8(ascii: ":")), (minute, 2, UInt8(ascii: ":")), (second, 2, UInt8(ascii: ".")),
            (millisecond, 3, nil),
        ]
        for field in fields {
            var divisor = 1
            for _ in 1..<field.digits { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(truncatingIfNeeded: 48 + field.value / divisor % 10))
                divisor /= 10
            }
            if let separator = field.then { bytes.append(separator) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
