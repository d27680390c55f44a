import Foundation

/// The enrollment API (`/api/enrollment/v1/enrollment[s]`), following edx-platform's
/// EnrollmentListView.post branch for branch: the update path for a staff caller changing the
/// mode or active flag of an existing enrollment, `add_enrollment` otherwise.
extension SandboxState {
    func postEnrollment(_ body: SandboxJSON, caller: Caller) -> Reply {
        let courseField = body["course_details"]?["course_id"]
        guard let courseField, !Self.isFalsy(courseField) else {
            return .message(.badRequest, "Course ID must be specified to create a new enrollment.")
        }
        let courseID = courseField.pythonDescription
        guard courseField.stringValue != nil, CourseKey.isValid(courseID) else {
            return .message(.badRequest, "No course '\(courseID)' found for enrollment")
        }
        let mode: String? = body["mode"].flatMap { $0.isNull ? nil : $0.pythonDescription }

        var username: String
        if let user = body["user"], !Self.isFalsy(user) {
            username = user.pythonDescription
        } else if let email = body["email"], !Self.isFalsy(email) {
            guard let account = store.account(email: email.pythonDescription) else {
                return .message(.notAcceptable, "The user with the email address \(email.pythonDescription) does not exist.")
            }
            username = account.username
        } else {
            username = caller.username
        }
        guard let account = store.accounts[username] else {
            return .message(.notAcceptable, "The user \(username) does not exist.")
        }
        username = account.username

        var isActive: Bool?
        if let value = body["is_active"], !value.isNull {
            guard let flag = value.boolValue else {
                return .message(.badRequest, "'\(value.pythonDescription)' is an invalid enrollment activation status.")
            }
            isActive = flag
        }
        var force = false
        if let value = body["force_enrollment"], !value.isNull {
            guard let flag = value.boolValue else {
                return .message(.badRequest, "'\(value.pythonDescription)' is an invalid force enrollment status.")
            }
            force = flag
        }
        let order = Self.orderNumber(body["enrollment_attributes"])

        let key = EnrollmentKey(username: username, courseID: courseID)
        let existing = store.enrollments[key]
        let modeChanged = existing != nil && mode != nil && existing?.mode != mode
        let activeChanged = existing != nil && isActive != nil && existing?.isActive != isActive

        if let existing, modeChanged || activeChanged {
            if modeChanged && activeChanged && isActive == false {
                return .message(
                    .badRequest,
                    "Enrollment mode mismatch: active mode=\(existing.mode), requested mode=\(mode ?? "None"). Won't deactivate."
                )
            }
            return updateEnrollment(existing, mode: mode, isActive: isActive, account: account, order: order)
        }
        return addEnrollment(
            existing, account: account, courseID: courseID, mode: mode, isActive: isActive, force: force, order: order
        )
    }

    /// `api.update_enrollment`: no enrollment-window or capacity check, only the mode's validity.
    private func updateEnrollment(
        _ existing: EnrollmentRecord, mode: String?, isActive: Bool?, account: Account, order: String?
    ) -> Reply {
        guard let course = store.courses[existing.courseID] else {
            return .message(.badRequest, "No course '\(existing.courseID)' found for enrollment")
        }
        if let mode, !course.modes.contains(mode) {
            return modeUnavailable(mode, course)
        }
        let newMode = mode ?? existing.mode
        let newActive = isActive ?? existing.isActive
        let record = store.putEnrollment(username: existing.username, courseID: existing.courseID, mode: newMode, isActive: newActive)
        let action: LedgerEntry.Action =
            newActive != existing.isActive ? (newActive ? .enroll : .unenroll) : .modeChange
        store.ledger.append(action, user: account.username, email: account.email, courseID: course.id, mode: newMode, order: order)
        return .ok(enrollmentJSON(record))
    }

    /// `api.add_enrollment`: creates or reactivates; an active enrollment is answered as is.
    private func addEnrollment(
        _ existing: EnrollmentRecord?, account: Account, courseID: String, mode: String?, isActive: Bool?,
        force: Bool, order: String?
    ) -> Reply {
        guard let course = store.courses[courseID] else {
            return .message(.badRequest, "No course '\(courseID)' found for enrollment")
        }
        let newMode = mode ?? course.defaultMode
        guard course.modes.contains(newMode) else {
            return modeUnavailable(newMode, course)
        }
        let activate = isActive ?? true
        if let existing, existing.isActive == activate {
            // Already enrolled (CourseEnrollmentExistsError → 200), or already unenrolled: nothing changes.
            return .ok(enrollmentJSON(existing))
        }
        if !activate {
            // Unenrolling someone never enrolled leaves an inactive row, as the LMS does.
            let record = store.putEnrollment(username: account.username, courseID: courseID, mode: newMode, isActive: false)
            store.ledger.append(.unenroll, user: account.username, email: account.email, courseID: courseID, mode: newMode, order: order)
            return .ok(enrollmentJSON(record))
        }
        let closed = !course.isEnrollmentOpen(at: Date()) && !force
        let full = course.maxEnrollments.map { activeEnrollmentCount(courseID: courseID) >= $0 } ?? false
        if closed || full {
            return .message(
                .badRequest,
                "An error occurred while creating the new course enrollment for user '\(account.username)' in course '\(courseID)'"
            )
        }
        let record = store.putEnrollment(username: account.username, courseID: courseID, mode: newMode, isActive: true)
        store.ledger.append(.enroll, user: account.username, email: account.email, courseID: courseID, mode: newMode, order: order)
        return .ok(enrollmentJSON(record))
    }

    private func modeUnavailable(_ mode: String, _ course: CourseRun) -> Reply {
        .json(
            .badRequest,
            [
                "message": .string("The [\(mode)] course mode is expired or otherwise unavailable for course run [\(course.id)]."),
                "course_details": courseDetailsJSON(course),
            ]
        )
    }

    /// `GET /api/enrollment/v1/enrollment/{username},{course_id}`: the enrollment or `null`.
    func getEnrollment(spec: String, caller: Caller) -> Reply {
        let username: String
        let courseID: String
        if let comma = spec.firstIndex(of: ",") {
            username = String(spec[..<comma])
            courseID = String(spec[spec.index(after: comma)...])
        } else {
            username = caller.username
            courseID = spec
        }
        guard CourseKey.isValid(courseID) else { return .djangoNotFound }
        guard let record = store.enrollments[EnrollmentKey(username: username, courseID: courseID)] else {
            return .ok(.null)
        }
        return .ok(enrollmentJSON(record))
    }

    /// `GET /api/enrollment/v1/enrollments`: the staff listing, in creation order, paged with DRF cursors or page
    /// numbers as `lmsSettings` says. New enrollments only ever come last, so pages stay consistent while a client
    /// reads them. The filters pick ids from the indexes the store keeps in creation order, so a page costs a
    /// binary search and its own items however large the course.
    func listEnrollments(_ request: IncomingRequest) -> Reply {
        let courseID = request.queryValue("course_id").flatMap { $0.isEmpty ? nil : $0 }
        if let courseID, !CourseKey.isValid(courseID) {
            return .json(.badRequest, ["course_id": .array([.string("'\(courseID)' is not a valid course id.")])])
        }
        var usernames: [String]?
        if let list = request.queryValue("username"), !list.isEmpty {
            let names = list.split(separator: ",").map(String.init)
            guard names.count <= 100 else {
                return .json(
                    .badRequest,
                    ["username": .array([.string("Too many usernames in a single request - \(names.count). A maximum of 100 is allowed")])]
                )
            }
            usernames = Array(Set(names))
        }
        var pageSize = lmsSettings.enrollmentsPageSize
        if let requested = request.queryValue("page_size").flatMap(Int.init), requested > 0 {
            pageSize = min(requested, 1000)
        }

        switch (courseID, usernames) {
        case (nil, nil):
            return enrollmentsPage(1..<(store.enrollmentKeys.count + 1), request, pageSize: pageSize)
        case (let courseID?, nil):
            return enrollmentsPage(store.enrollmentIDsByCourse[courseID] ?? [], request, pageSize: pageSize)
        case (let courseID?, let usernames?):
            let ids = usernames.compactMap { store.enrollments[EnrollmentKey(username: $0, courseID: courseID)]?.id }
            return enrollmentsPage(ids.sorted(), request, pageSize: pageSize)
        case (nil, let usernames?):
            return enrollmentsPage(usernames.flatMap { store.enrollmentIDsByUser[$0] ?? [] }.sorted(), request, pageSize: pageSize)
        }
    }

    /// One page of `ids` (ascending enrollment ids) in the configured style.
    private func enrollmentsPage<IDs: RandomAccessCollection<Int>>(_ ids: IDs, _ request: IncomingRequest, pageSize: Int) -> Reply {
        func link(replacing name: String, with value: String?) -> SandboxJSON {
            var query = request.query.filter { $0.0 != name }
            if let value { query.append((name, value)) }
            let text = RequestParsing.encodeQuery(query)
            return .string("\(request.origin)\(request.path)\(text.isEmpty ? "" : "?" + text)")
        }
        func results(_ page: IDs.SubSequence) -> SandboxJSON {
            .array(page.map { id in
                let record = store.enrollment(id: id)
                return [
                    "created": .string(Timestamp.format(record.created)),
                    "mode": .string(record.mode),
                    "is_active": .bool(record.isActive),
                    "user": .string(record.username),
                    "course_id": .string(record.courseID),
                ]
            })
        }

        switch lmsSettings.enrollmentsPagination {
        case .cursor:
            var reverse = false
            var position: Int?
            if let cursor = request.queryValue("cursor") {
                guard let decoded = Cursor.decode(cursor) else { return .detail(.notFound, "Invalid cursor") }
                (reverse, position) = (decoded.reverse, decoded.position)
            }
            // The cursor is an id: forward, the first ids after it; backward, the last ones before it.
            let bounds: Range<IDs.Index>
            if reverse, let position {
                let end = ids.partitioningIndex { $0 >= position }
                bounds = (ids.index(end, offsetBy: -pageSize, limitedBy: ids.startIndex) ?? ids.startIndex)..<end
            } else {
                let start = ids.partitioningIndex { $0 > (position ?? 0) }
                bounds = start..<(ids.index(start, offsetBy: pageSize, limitedBy: ids.endIndex) ?? ids.endIndex)
            }
            let page = ids[bounds]
            let hasAfter = page.isEmpty ? (reverse && position != nil) : bounds.upperBound < ids.endIndex
            let hasBefore = page.isEmpty ? (!reverse && position != nil) : bounds.lowerBound > ids.startIndex
            let next: SandboxJSON =
                hasAfter ? link(replacing: "cursor", with: Cursor(reverse: false, position: page.last ?? position ?? 0).encoded) : .null
            let previous: SandboxJSON =
                hasBefore ? link(replacing: "cursor", with: Cursor(reverse: true, position: page.first ?? position ?? 0).encoded) : .null
            return .ok(["next": next, "previous": previous, "results": results(page)])

        case .pageNumber:
            // Django's Paginator: an empty list still has its page 1.
            let pages = max(1, (ids.count + pageSize - 1) / pageSize)
            let requested = request.queryValue("page") ?? ""
            let number: Int? = requested.isEmpty ? 1 : requested == "last" ? pages : Int(requested.trimmingCharacters(in: .whitespaces))
            guard let number, (1...pages).contains(number) else { return .detail(.notFound, "Invalid page.") }
            let start = ids.index(ids.startIndex, offsetBy: (number - 1) * pageSize)
            let page = ids[start..<(ids.index(start, offsetBy: pageSize, limitedBy: ids.endIndex) ?? ids.endIndex)]
            // DRF drops `page` from the link back to the first page rather than writing page=1.
            let next: SandboxJSON = number < pages ? link(replacing: "page", with: String(number + 1)) : .null
            let previous: SandboxJSON = number > 1 ? link(replacing: "page", with: number == 2 ? nil : String(number - 1)) : .null
            return .ok([
                "count": .int(ids.count), "num_pages": .int(pages), "current_page": .int(number),
                "start": .int((number - 1) * pageSize), "next": next, "previous": previous, "results": results(page),
            ])
        }
    }

    /// Python truthiness, as the view's `if not username` / `if not course_id` tests.
    static func isFalsy(_ value: SandboxJSON) -> Bool {
        switch value {
        case .null: return true
        case .bool(let flag): return !flag
        case .int(let number): return number == 0
        case .double(let number): return number == 0
        case .string(let text): return text.isEmpty
        case .array(let items): return items.isEmpty
        case .object(let fields): return fields.isEmpty
        }
    }

    /// ecommerce's `{"namespace": "order", "name": "order_number", "value": "727"}` attribute.
    static func orderNumber(_ attributes: SandboxJSON?) -> String? {
        guard let items = attributes?.arrayValue else { return nil }
        for item in items where item["namespace"]?.stringValue == "order" && item["name"]?.stringValue == "order_number" {
            return item["value"].map(\.pythonDescription)
        }
        return nil
    }
}

extension RandomAccessCollection {
    /// The index of the first element for which `belongsInSecondPartition` holds, the collection being partitioned
    /// by it (all false, then all true): a binary search.
    func partitioningIndex(where belongsInSecondPartition: (Element) -> Bool) -> Index {
        var low = startIndex
        var count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if belongsInSecondPartition(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}

/// DRF's opaque cursor: base64 of a small query string.
struct Cursor {
    var reverse: Bool
    var position: Int

    var encoded: String {
        Data((reverse ? "r=1&p=\(position)" : "p=\(position)").utf8).base64EncodedString()
    }

    static func decode(_ text: String) -> Cursor? {
        guard let data = Data(base64Encoded: text) else { return nil }
        let fields = RequestParsing.formDecode(Substring(String(decoding: data, as: UTF8.self)))
        guard let position = fields.last(where: { $0.0 == "p" }).flatMap({ Int($0.1) }) else { return nil }
        return Cursor(reverse: fields.contains { $0.0 == "r" && $0.1 == "1" }, position: position)
    }
}
