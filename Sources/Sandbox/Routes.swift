import Foundation
import Hummingbird

/// Every path the sandbox serves, LMS, Studio and store on one port. Trailing slashes are
/// optional everywhere: clients differ on them and the point is to test the client's logic.
enum Route: Sendable {
    case token
    case accounts
    case enrollmentPost
    case enrollmentGet(String)
    case enrollmentsList
    case enrollmentAllowed
    case courseRun(String)
    case clone
    case rerun(String)
    case wooOrders
    case wooOrder(String)
    case wooRefunds(String)
    case wooRefund(String, String)
    case wooWebhooks
    case control

    enum Auth { case none, openEdX, wooCommerce }

    /// `(route, stats name)`, or the reply for a path or method that does not exist.
    static func match(method: String, segments: [String]) -> Result<(Route, String), ReplyError> {
        let notFound = ReplyError(reply: .djangoNotFound)
        func allow(_ methods: [String], _ route: Route, _ template: String) -> Result<(Route, String), ReplyError> {
            guard methods.contains(method) else {
                return .failure(ReplyError(reply: .detail(.methodNotAllowed, "Method \"\(method)\" not allowed.")))
            }
            return .success((route, "\(method) \(template)"))
        }
        switch segments.first ?? "" {
        case "__sandbox":
            return .success((.control, "\(method) /\(segments.joined(separator: "/"))"))
        case "oauth2" where segments == ["oauth2", "access_token"]:
            return allow(["POST"], .token, "/oauth2/access_token")
        case "api":
            let rest = Array(segments.dropFirst())
            switch rest.count {
            case 3 where rest == ["user", "v1", "accounts"]:
                return allow(["GET"], .accounts, "/api/user/v1/accounts")
            case 3 where rest == ["enrollment", "v1", "enrollment"]:
                return allow(["POST"], .enrollmentPost, "/api/enrollment/v1/enrollment")
            case 3 where rest == ["enrollment", "v1", "enrollments"]:
                return allow(["GET"], .enrollmentsList, "/api/enrollment/v1/enrollments")
            case 3 where rest == ["enrollment", "v1", "enrollment_allowed"]:
                return allow(["GET", "POST", "DELETE"], .enrollmentAllowed, "/api/enrollment/v1/enrollment_allowed")
            case 4 where Array(rest.prefix(3)) == ["enrollment", "v1", "enrollment"]:
                return allow(["GET"], .enrollmentGet(rest[3]), "/api/enrollment/v1/enrollment/{user},{course}")
            case 3 where rest == ["v1", "course_runs", "clone"]:
                return allow(["POST"], .clone, "/api/v1/course_runs/clone")
            case 3 where rest[0] == "v1" && rest[1] == "course_runs":
                return allow(["GET", "PATCH", "PUT"], .courseRun(rest[2]), "/api/v1/course_runs/{key}")
            case 4 where rest[0] == "v1" && rest[1] == "course_runs" && rest[3] == "rerun":
                return allow(["POST"], .rerun(rest[2]), "/api/v1/course_runs/{key}/rerun")
            default:
                return .failure(notFound)
            }
        case "wp-json" where segments == ["wp-json", "wc", "v3", "webhooks"]:
            return allow(["GET"], .wooWebhooks, "/wp-json/wc/v3/webhooks")
        case "wp-json" where segments.count >= 4 && Array(segments[1...3]) == ["wc", "v3", "orders"]:
            let rest = Array(segments.dropFirst(4))
            switch rest.count {
            case 0: return allow(["GET"], .wooOrders, "/wp-json/wc/v3/orders")
            case 1: return allow(["GET"], .wooOrder(rest[0]), "/wp-json/wc/v3/orders/{id}")
            case 2 where rest[1] == "refunds": return allow(["GET"], .wooRefunds(rest[0]), "/wp-json/wc/v3/orders/{id}/refunds")
            case 3 where rest[1] == "refunds":
                return allow(["GET"], .wooRefund(rest[0], rest[2]), "/wp-json/wc/v3/orders/{id}/refunds/{refund_id}")
            default: return .failure(notFound)
            }
        default:
            return .failure(notFound)
        }
    }

    var auth: Auth {
        switch self {
        case .token, .control: return .none
        case .wooOrders, .wooOrder, .wooRefunds, .wooRefund, .wooWebhooks: return .wooCommerce
        default: return .openEdX
        }
    }

    /// Faults and latency hit every API call but the token endpoint and the control plane.
    var injectsFaults: Bool { auth != .none }

    /// The staff throttle covers the LMS and Studio APIs, not the store.
    var isThrottled: Bool { auth == .openEdX }

    /// Whether the body is JSON read into `SandboxJSON` (the token endpoint takes a form).
    var takesJSONBody: Bool {
        switch self {
        case .enrollmentPost, .enrollmentAllowed, .courseRun, .rerun, .clone: return true
        default: return false
        }
    }
}

extension SandboxState {
    /// Runs the matched route once authentication and throttling have passed.
    func handle(_ route: Route, _ request: IncomingRequest, body: SandboxJSON, caller: Caller?) -> Reply {
        let service = caller ?? Caller(clientID: configuration.clientID)
        switch route {
        case .token:
            return issueToken(form: request.formBody(), authorization: request.authorization)
        case .accounts:
            return lookupAccounts(email: request.queryValue("email"), usernames: request.queryValue("username"))
        case .enrollmentPost:
            return postEnrollment(body, caller: service)
        case .enrollmentGet(let spec):
            return getEnrollment(spec: spec, caller: service)
        case .enrollmentsList:
            return listEnrollments(request)
        case .enrollmentAllowed:
            switch request.method {
            case "GET": return listAllowed(email: request.queryValue("email"))
            case "POST": return createAllowed(body)
            default: return deleteAllowed(body)
            }
        case .courseRun(let key):
            return request.method == "GET" ? getCourseRun(key) : patchCourseRun(key, body: body, partial: request.method == "PATCH")
        case .clone:
            return clone(body)
        case .rerun(let source):
            return rerun(source: source, body: body)
        case .wooOrders:
            return listOrders(request)
        case .wooOrder(let id):
            return getOrder(id)
        case .wooRefunds(let orderID):
            return listRefunds(orderIDText: orderID)
        case .wooRefund(let orderID, let refundID):
            return getRefund(orderIDText: orderID, refundIDText: refundID)
        case .wooWebhooks:
            return listWebhooks(request)
        case .control:
            return control(request)
        }
    }
}
