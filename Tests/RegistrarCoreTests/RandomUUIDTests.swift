import Foundation
import RegistrarCore
import Testing

@Suite struct RandomUUIDTests {
    @Test func isAVersion4UUIDInLowerCaseAndNeverRepeats() {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let text = RandomUUID.make()
            #expect(text == text.lowercased())
            let parsed = UUID(uuidString: text)
            #expect(parsed?.uuidString.lowercased() == text, "\(text)")
            let bytes = parsed.map { withUnsafeBytes(of: $0.uuid) { Array($0) } } ?? []
            #expect(bytes.count == 16 && bytes[6] >> 4 == 4 && bytes[8] >> 6 == 0b10, "\(text)")
            seen.insert(text)
        }
        #expect(seen.count == 10_000)
    }
}
