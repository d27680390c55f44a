import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import RegistrarCore
import RegistrarStore

/// `/api/v1/reports/…` for finance admins: the CLI's reports, as JSON or CSV (`format=csv`). A scoped token gets
/// its courses only: 403 for another course, revenue rows filtered; reconciliation spans every order, so it needs
/// a token without a scope.
struct ReportsAPI: Sendable {
    let desk: ReportDesk
    let logger: Logger

    func register(_ api: RouterGroup<RegistrarRequestContext>, maxBody: Int) {
        let reports = api.group("reports").add(middleware: RequireRole(.financeAdmin))
        reports.get("seats") { request, context -> Response in
            await course(request, context) { courseID in
                let report = try await desk.seats(courseID: courseID)
                return Self.answer(request, json: report.json, csv: report.csv, name: "seats")
            }
        }
        reports.get("audit") { request, context -> Response in
            await course(request, context) { courseID in
                do {
                    let audit = try await desk.audit(courseID: courseID)
                    return Self.answer(request, json: audit.json, csv: audit.csv, name: "audit")
                } catch let error as ReportError {
                    return JSONResponse.error(.badGateway, code: "lms_unavailable", message: error.description)
                }
            }
        }
        reports.get("revenue") { request, context -> Response in
            var period = RevenueReport.Period()
            for (name, isEnd) in [("from", false), ("to", true)] {
                guard let text = request.uri.queryParameters.get(name) else { continue }
                guard let day = CivilCalendar.date(text) else {
                    return JSONResponse.error(.unprocessableContent, code: "invalid_field", message: "\(name) \(text) is not a date (YYYY-MM-DD)")
                }
                if isEnd { period.to = day.addingTimeInterval(86_400) } else { period.from = day }
            }
            let courseID = request.uri.queryParameters.get("course_id").flatMap { $0.isEmpty ? nil : $0 }
            if let courseID, let token = context.identity, !token.covers(courseID) { return Self.outOfScope(courseID) }
            do {
                var report = try await desk.revenue(courseID: courseID, period: period)
                if let token = context.identity { report.rows = report.rows.filter { token.covers($0.courseID) } }
                return Self.answer(request, json: report.json, csv: report.csv, name: "revenue")
            } catch { return JSONResponse.databaseUnavailable(error) }
        }
        reports.post("reconcile") { request, context -> Response in
            if context.identity?.scope != nil {
                return JSONResponse.error(.forbidden, code: "out_of_scope",
                                          message: "reconciliation covers every order: it needs a token without a course scope")
            }
            // A month's report outgrows the webhook limit; only a finance admin's token gets this far.
            guard case .bytes(let body) = await RegistrarHTTPServer.collectBody(request, limit: max(maxBody, Self.maxReportBytes)) else {
                return JSONResponse.error(.contentTooLarge, code: "too_large", message: "the report is larger than \(Self.maxReportBytes >> 20) MiB")
            }
            guard let text = String(validating: body, as: UTF8.self) else {
                return JSONResponse.error(.unprocessableContent, code: "unreadable_report", message: "the report is not UTF-8 text")
            }
            let apply = ["true", "1", "yes"].contains(request.uri.queryParameters.get("apply_refunds") ?? "")
            do {
                let (reconciliation, applied) = try await desk.reconcile(csv: text, apply: apply, actor: context.identity?.name ?? "api")
                return Self.answer(request, json: reconciliation.json(applied: apply ? applied : nil), csv: reconciliation.csv, name: "reconcile")
            } catch let error as ReportError {
                return JSONResponse.error(.unprocessableContent, code: "unreadable_report", message: error.description)
            } catch { return JSONResponse.databaseUnavailable(error) }
        }
    }

    static let maxReportBytes = 64 << 20

    /// A report of one course: `course_id` required and in the token's scope.
    private func course(_ request: Request, _ context: RegistrarRequestContext,
                        _ make: (String) async throws -> Response) async -> Response {
        guard let courseID = request.uri.queryParameters.get("course_id"), !courseID.isEmpty else {
            return JSONResponse.error(.unprocessableContent, code: "missing_field", message: "course_id is required")
        }
        if let token = context.identity, !token.covers(courseID) { return Self.outOfScope(courseID) }
        do { return try await make(courseID) } catch { return JSONResponse.databaseUnavailable(error) }
    }

    static func answer(_ request: Request, json: JSONValue, csv: String, name: String) -> Response {
        guard request.uri.queryParameters.get("format") == "csv" else { return JSONResponse.make(.ok, json: json) }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(name).csv\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    static func outOfScope(_ courseID: String) -> Response {
        JSONResponse.error(.forbidden, code: "out_of_scope", message: "this token is not allowed \(courseID)")
    }
}
