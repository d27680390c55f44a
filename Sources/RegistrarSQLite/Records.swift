import Foundation
import GRDB
import RegistrarCore
import RegistrarStore

// The store's values read straight from the statement's current row (a FetchableRecord is built without copying
// the row), so the seam's plain values cost nothing over the GRDB records they replace.

struct JobRecord: FetchableRecord {
    let job: Job

    init(row: Row) throws {
        let id: Int64 = row["id"]
        let stateText: String = row["state"]
        guard let state = JobState(rawValue: stateText) else {
            throw StoreError.corrupt("job \(id) has unknown state \"\(stateText)\"")
        }
        job = Job(id: id, kind: JobKind(rawValue: row["kind"]), state: state, dedupeKey: row["dedupe_key"],
                  serialKey: row["serial_key"], payload: row["payload"], attempts: row["attempts"],
                  maxAttempts: row["max_attempts"], runAt: row["run_at"], leaseOwner: row["lease_owner"],
                  leaseExpiresAt: row["lease_expires_at"], lastError: row["last_error"],
                  lastHTTPStatus: row["last_http_status"], result: row["result"], source: row["source"],
                  deliveryID: row["delivery_id"], createdAt: row["created_at"], updatedAt: row["updated_at"],
                  finishedAt: row["finished_at"])
    }
}

struct AttemptRecord: FetchableRecord {
    let attempt: JobAttempt

    init(row: Row) {
        attempt = JobAttempt(id: row["id"], jobID: row["job_id"], attempt: row["attempt"], worker: row["worker"],
                             startedAt: row["started_at"], durationMilliseconds: row["duration_ms"],
                             outcome: row["outcome"], httpStatus: row["http_status"], error: row["error"])
    }
}

struct ActionRecord: FetchableRecord {
    let action: OperatorAction

    init(row: Row) {
        action = OperatorAction(id: row["id"], at: row["at"], actor: row["actor"], action: row["action"],
                                jobID: row["job_id"], detail: row["detail"])
    }
}

struct DeliveryRecord: FetchableRecord {
    let delivery: Delivery

    init(row: Row) {
        let body: Data = row["body"]
        let bodySize: Int? = row["body_size"]
        // Rows written before v9 (no body_size) were stored before the masking was complete: masked on the way out.
        delivery = Delivery(id: row["id"], source: row["source"], channel: row["channel"], receivedAt: row["received_at"],
                            headers: (try? JSONText.decode([String: String].self, from: row["headers"])) ?? [:],
                            body: bodySize == nil ? CardNumberMasking.masked([UInt8](body)) : [UInt8](body), bodySize: bodySize,
                            bodySHA256: row["body_sha256"], verdict: row["verdict"], httpStatus: row["http_status"],
                            reason: row["reason"],
                            jobIDs: (try? JSONText.decode([Int64].self, from: row["job_ids"])) ?? [])
    }
}

struct OrderRecord: FetchableRecord {
    let order: Order

    init(row: Row) throws {
        let reference: String = row["reference"]
        let statusText: String = row["status"]
        guard let status = OrderStatus(rawValue: statusText) else {
            throw StoreError.corrupt("order \(reference) has unknown status \(statusText)")
        }
        order = Order(reference: reference, email: row["email"], currency: row["currency"], total: row["total"],
                      items: try JSONText.decode([OrderItem].self, from: row["items"]), status: status,
                      attention: (row["attention"] as String?).flatMap(OrderAttention.init(rawValue:)),
                      profileID: row["profile_id"], transactionID: row["transaction_id"], createdAt: row["created_at"],
                      updatedAt: row["updated_at"], createdBy: row["created_by"], coupon: row["coupon"])
    }
}

struct PaymentRecord: FetchableRecord {
    let payment: Payment

    init(row: Row) {
        payment = Payment(id: row["id"], orderReference: row["order_reference"], transactionID: row["transaction_id"],
                          decision: row["decision"], amount: row["amount"], currency: row["currency"],
                          outcome: row["outcome"], deliveryID: row["delivery_id"], createdAt: row["created_at"])
    }
}

struct TokenRecord: FetchableRecord {
    let token: APIToken

    init(row: Row) throws {
        let name: String = row["name"]
        let roleText: String = row["role"]
        guard let role = APIRole(rawValue: roleText) else {
            throw StoreError.corrupt("token \(name) has unknown role \(roleText)")
        }
        let scope: String? = row["scope"]
        token = APIToken(name: name, role: role, createdAt: row["created_at"], revokedAt: row["revoked_at"],
                         scope: try scope.map { try JSONText.decode([String].self, from: $0) },
                         maySetPrices: row["may_set_prices"] ?? false)
    }
}
