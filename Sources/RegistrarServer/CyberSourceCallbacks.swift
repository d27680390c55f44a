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
    let logger: Logger

    func receive(headers: [String: String], body: [UInt8]) async -> Response {
        let stored = CallbackBodyRedaction.storable(body)
        let kept = headers.filter { ["content-type", "user-agent"].contains($0.key) }
        let text = String(decoding: body, as: UTF8.self)
        switch verifier.verify(formBody: text, now: clock.now()) {
        case .failure(let rejection):
            metrics.delivery(source: "cybersource", verdict: "rejected")
            let id = try? await ledger.recordDelivery(NewDelivery(
                source: "cybersource", headers: kept, body: stored, verdict: "rejected", httpStatus: rejection.httpStatus,
                reason: rejection.message))
            logger.warning("callback rejected", metadata: ["delivery_id": "\(id.map(String.init) ?? "unrecorded")",
                                                           "http_status": "\(rejection.httpStatus)", "reason": "\(rejection.message)"])
            return JSONResponse.error(.init(code: rejection.httpStatus), code: rejection.code, message: rejection.message)
        case .success(let callback):
            let delivery = NewDelivery(source: "cybersource", channel: callback.profileID, headers: kept, body: stored,
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
}
