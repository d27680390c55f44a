import Foundation
import Hummingbird
import Logging
import RegistrarCore
import RegistrarStore

/// `POST /callbacks/cybersource`: every callback is recorded in the delivery ledger — rejected ones too —
/// and a verified one changes its order in the same commit. The signature is checked before anything else
/// in the callback is believed, whatever its decision.
struct CyberSourceCallbacks: Sendable {
    let verifier: CallbackVerifier
    let orders: any OrderBook
    let ledger: any IntakeLedger
    let clock: any WallClock
    let metrics: RegistrarMetrics
    let gate: RejectionGate
    let logger: Logger

    static func headersWorthKeeping(_ headers: [String: String]) -> [String: String] {
        headers.filter { ["content-type", "user-agent"].contains($0.key) }
    }

    /// - Parameter client: the address rejections are counted against (see `ClientAddressResolver`).
    func receive(headers: [String: String], body: [UInt8], client: String) async -> Response {
        let kept = Self.headersWorthKeeping(headers)
        let text = String(decoding: body, as: UTF8.self)
        switch verifier.verify(formBody: text, now: clock.now()) {
        case .failure(let rejection):
            return await rejected(NewDelivery(source: "cybersource", headers: kept, body: body,
                                              verdict: NewDelivery.rejectedVerdict, httpStatus: rejection.httpStatus,
                                              reason: rejection.message),
                                  code: rejection.code, client: client)
        case .success(let callback):
            // The ledger masks card numbers in what it keeps (`StoredBody`); CyberSource sends them masked anyway.
            let delivery = NewDelivery(source: "cybersource", channel: callback.profileID, headers: kept, body: body,
                                       verdict: "accepted", httpStatus: 200)
            let applied: AppliedPayment
            do {
                applied = try await orders.applyPayment(callback, delivery: delivery)
            } catch {
                logger.error("could not commit a callback; answered 503", metadata: ["order": "\(callback.referenceNumber)",
                                                                                     "error": "\(error)"])
                return JSONResponse.error(.serviceUnavailable, code: "database_unavailable",
                                          message: "the callback could not be stored; nothing was recorded")
            }
            var metadata: Logger.Metadata = ["delivery_id": "\(applied.deliveryID)", "order": "\(callback.referenceNumber)",
                                             "decision": "\(callback.decision.rawValue)",
                                             "transaction_id": "\(callback.transactionID)"]
            guard let decision = applied.decision, !applied.unknownOrder else {
                metrics.delivery(source: "cybersource", verdict: "rejected")
                logger.warning("callback for an unknown order", metadata: metadata)
                return JSONResponse.error(.notFound, code: "unknown_order", message: "no order \(callback.referenceNumber)")
            }
            metrics.delivery(source: "cybersource", verdict: decision.outcome.rawValue)
            let created = applied.jobs.filter(\.created).count
            if created > 0 { metrics.jobsCreated(kind: .enroll, count: created) }
            metadata["outcome"] = "\(decision.outcome.rawValue)"
            metadata["jobs"] = "\(applied.jobs.map(\.id))"
            if decision.httpStatus == 200 { logger.info("callback recorded", metadata: metadata) }
            else { logger.warning("callback recorded, not fulfilled", metadata: metadata) }
            if decision.httpStatus != 200 {
                return JSONResponse.error(.init(code: decision.httpStatus), code: decision.outcome.rawValue, message: decision.message)
            }
            return JSONResponse.make(.ok, JSONValue.object([
                "status": .string(decision.outcome.rawValue), "message": .string(decision.message),
                "delivery": .number(Double(applied.deliveryID)), "jobs": .array(applied.jobs.map { .number(Double($0.id)) }),
            ]))
        }
    }

    /// A callback over `server.max_body_bytes`: recorded with its size (and hash, when read through), answered 413.
    func tooLarge(headers: [String: String], body: StoredBody, limit: Int, client: String) async -> Response {
        await rejected(NewDelivery(source: "cybersource", headers: Self.headersWorthKeeping(headers), unread: body,
                                   verdict: NewDelivery.rejectedVerdict, httpStatus: 413,
                                   reason: "the callback exceeds server.max_body_bytes (\(limit) bytes)"),
                       code: "too_large", client: client)
    }

    /// Records a rejection unless its client is over budget, then answers it.
    private func rejected(_ delivery: NewDelivery, code: String, client: String) async -> Response {
        guard gate.admit(client, source: "cybersource") else {
            return JSONResponse.error(.tooManyRequests, code: RejectionGate.limitedCode,
                                      message: RejectionGate.limitedMessage(client))
        }
        metrics.delivery(source: "cybersource", verdict: NewDelivery.rejectedVerdict)
        let id = try? await ledger.recordDelivery(delivery)
        logger.warning("callback rejected", metadata: ["delivery_id": "\(id.map(String.init) ?? "unrecorded")", "client": "\(client)",
                                                       "http_status": "\(delivery.httpStatus)", "reason": "\(delivery.reason ?? "")"])
        return JSONResponse.error(.init(code: delivery.httpStatus), code: code, message: delivery.reason ?? code)
    }
}
