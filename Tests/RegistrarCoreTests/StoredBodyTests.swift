import Foundation
import RegistrarCore
import Testing

/// What the delivery ledger keeps of a body.
@Suite struct StoredBodyTests {
    @Test func aRejectedBodyKeepsItsSizeItsHashAndItsFirstFourKilobytes() {
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        let stored = StoredBody.rejected(body)
        #expect(stored.bytes.count == 4096 && stored.size == 1 << 20 && stored.isPartial)
        // sha256 of one MiB of "a", computed independently (sha256sum).
        #expect(stored.sha256 == "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360")
    }

    @Test func aSmallRejectedBodyIsKeptWholeWithItsHash() {
        let stored = StoredBody.rejected(Array("abc".utf8))
        #expect(stored.bytes == Array("abc".utf8) && !stored.isPartial && stored.size == 3)
        #expect(stored.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func anAcceptedBodyIsKeptWholeWithoutAHash() {
        let body = [UInt8](repeating: UInt8(ascii: "b"), count: 10_000)
        let stored = StoredBody.whole(body)
        #expect(stored.bytes == body && stored.size == 10_000 && stored.sha256 == nil && !stored.isPartial)
    }

    @Test func cardNumbersAreMaskedInWhatIsKeptAndBeforeTheCut() {
        let card = "4111111111111111"
        var body = Array(repeating: UInt8(ascii: "x"), count: 4090) + Array(card.utf8)
        body += Array(repeating: UInt8(ascii: "y"), count: 100)
        let rejected = StoredBody.rejected(body)
        #expect(!String(decoding: rejected.bytes, as: UTF8.self).contains("411111"))
        let whole = StoredBody.whole(Array("note=\(card)".utf8))
        #expect(String(decoding: whole.bytes, as: UTF8.self).hasSuffix("1111"))
        #expect(!String(decoding: whole.bytes, as: UTF8.self).contains(card))
    }

    @Test func anUnreadBodyKeepsOnlyWhatIsKnown() {
        let stored = StoredBody.unread(size: 5_000_000, sha256: nil)
        #expect(stored.bytes.isEmpty && stored.size == 5_000_000 && stored.isPartial && stored.sha256 == nil)
    }

    @Test func theStreamingDigestAgreesWithTheOneShotHash() {
        let body = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var digest = StreamingBodyDigest()
        for chunk in stride(from: 0, to: body.count, by: 7_777) {
            body[chunk..<min(chunk + 7_777, body.count)].withUnsafeBytes { digest.update($0) }
        }
        #expect(digest.count == body.count && digest.finalize() == StoredBody.sha256Hex(body))
    }

    @Test func aRejectedDeliveryKeepsFewShortHeaders() {
        let small = ["x-wc-webhook-topic": "order.updated", "user-agent": "WooCommerce/9.4"]
        #expect(StoredHeaders.rejected(small) == small)
        var many: [String: String] = [:]
        for index in 0..<100 { many["x-wc-webhook-\(index)"] = String(repeating: "é", count: 5_000) }
        let kept = StoredHeaders.rejected(many)
        #expect(kept.count == StoredHeaders.maxCount)
        #expect(kept.values.allSatisfy { $0.utf8.count <= StoredHeaders.maxValueBytes && $0.hasSuffix("…") })
    }
}
