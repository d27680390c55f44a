import Foundation

/// The sandbox's starting state, usually read from the `--seed` JSON file.
///
/// ```json
/// {"users": [{"username": "audrey", "email": "audrey@example.com", "name": "Audrey Hall"}],
///  "courses": [{"id": "course-v1:edX+DemoX+Demo_Course", "modes": ["audit", "verified"], "enrollment_open": true}],
///  "enrollments": [{"user": "audrey", "course_id": "course-v1:edX+DemoX+Demo_Course", "mode": "audit"}],
///  "woocommerce": {"orders": [{"id": 727, ...}], "refunds": [{"order_id": 727, "refund": {"id": 724, ...}}]}}
/// ```
/// Every key is optional. Seeded enrollments are the state before the ledger starts: they are not in it.
public struct SandboxSeed: Codable, Sendable, Equatable {
    public struct User: Codable, Sendable, Equatable {
        public var username: String
        public var email: String
        public var name: String?

        public init(username: String, email: String, name: String? = nil) {
            self.username = username
            self.email = email
            self.name = name
        }
    }

    public struct Course: Codable, Sendable, Equatable {
        public var id: String
        public var title: String?
        /// Mode slugs offered, e.g. `["audit", "verified"]`.
        public var modes: [String]
        /// false closes enrollment (only `force_enrollment` gets through).
        public var enrollmentOpen: Bool
        /// Active enrollments allowed; nil is unlimited.
        public var maxEnrollments: Int?
        public var pacingType: String?
        /// ISO 8601; Studio's course-run schedule.
        public var start: String?
        public var end: String?
        /// ISO 8601; outside [enrollment_start, enrollment_end) enrollment is closed too.
        public var enrollmentStart: String?
        public var enrollmentEnd: String?

        public init(
            id: String,
            title: String? = nil,
            modes: [String] = ["audit"],
            enrollmentOpen: Bool = true,
            maxEnrollments: Int? = nil,
            pacingType: String? = nil,
            start: String? = nil,
            end: String? = nil,
            enrollmentStart: String? = nil,
            enrollmentEnd: String? = nil
        ) {
            self.id = id
            self.title = title
            self.modes = modes
            self.enrollmentOpen = enrollmentOpen
            self.maxEnrollments = maxEnrollments
            self.pacingType = pacingType
            self.start = start
            self.end = end
            self.enrollmentStart = enrollmentStart
            self.enrollmentEnd = enrollmentEnd
        }

        enum CodingKeys: String, CodingKey {
            case id, title, modes, start, end
            case enrollmentOpen = "enrollment_open"
            case maxEnrollments = "max_enrollments"
            case pacingType = "pacing_type"
            case enrollmentStart = "enrollment_start"
            case enrollmentEnd = "enrollment_end"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try c.decode(String.self, forKey: .id)
            self.title = try c.decodeIfPresent(String.self, forKey: .title)
            self.modes = try c.decodeIfPresent([String].self, forKey: .modes) ?? ["audit"]
            self.enrollmentOpen = try c.decodeIfPresent(Bool.self, forKey: .enrollmentOpen) ?? true
            self.maxEnrollments = try c.decodeIfPresent(Int.self, forKey: .maxEnrollments)
            self.pacingType = try c.decodeIfPresent(String.self, forKey: .pacingType)
            self.start = try c.decodeIfPresent(String.self, forKey: .start)
            self.end = try c.decodeIfPresent(String.self, forKey: .end)
            self.enrollmentStart = try c.decodeIfPresent(String.self, forKey: .enrollmentStart)
            self.enrollmentEnd = try c.decodeIfPresent(String.self, forKey: .enrollmentEnd)
        }
    }

    public struct Enrollment: Codable, Sendable, Equatable {
        public var user: String
        public var courseID: String
        public var mode: String
        public var isActive: Bool

        public init(user: String, courseID: String, mode: String = "audit", isActive: Bool = true) {
            self.user = user
            self.courseID = courseID
            self.mode = mode
            self.isActive = isActive
        }

        enum CodingKeys: String, CodingKey {
            case user, mode
            case courseID = "course_id"
            case isActive = "is_active"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.user = try c.decode(String.self, forKey: .user)
            self.courseID = try c.decode(String.self, forKey: .courseID)
            self.mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? "audit"
            self.isActive = try c.decodeIfPresent(Bool.self, forKey: .isActive) ?? true
        }
    }

    public struct Refund: Codable, Sendable, Equatable {
        public var orderID: Int
        /// A refund as `GET /wp-json/wc/v3/orders/<order_id>/refunds/<id>` returns it; must have `id`.
        public var refund: SandboxJSON

        public init(orderID: Int, refund: SandboxJSON) {
            self.orderID = orderID
            self.refund = refund
        }

        enum CodingKeys: String, CodingKey {
            case refund
            case orderID = "order_id"
        }
    }

    public struct WooCommerce: Codable, Sendable, Equatable {
        /// REST v3 order JSON; each must have an integer `id`.
        public var orders: [SandboxJSON]
        public var refunds: [Refund]
        /// As `GET /wp-json/wc/v3/webhooks` lists them; each must have an integer `id`.
        public var webhooks: [SandboxJSON]

        public init(orders: [SandboxJSON] = [], refunds: [Refund] = [], webhooks: [SandboxJSON] = []) {
            self.orders = orders
            self.refunds = refunds
            self.webhooks = webhooks
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.orders = try c.decodeIfPresent([SandboxJSON].self, forKey: .orders) ?? []
            self.refunds = try c.decodeIfPresent([Refund].self, forKey: .refunds) ?? []
            self.webhooks = try c.decodeIfPresent([SandboxJSON].self, forKey: .webhooks) ?? []
        }
    }

    public var users: [User]
    public var courses: [Course]
    public var enrollments: [Enrollment]
    public var woocommerce: WooCommerce

    public init(
        users: [User] = [],
        courses: [Course] = [],
        enrollments: [Enrollment] = [],
        woocommerce: WooCommerce = .init()
    ) {
        self.users = users
        self.courses = courses
        self.enrollments = enrollments
        self.woocommerce = woocommerce
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.users = try c.decodeIfPresent([User].self, forKey: .users) ?? []
        self.courses = try c.decodeIfPresent([Course].self, forKey: .courses) ?? []
        self.enrollments = try c.decodeIfPresent([Enrollment].self, forKey: .enrollments) ?? []
        self.woocommerce = try c.decodeIfPresent(WooCommerce.self, forKey: .woocommerce) ?? .init()
    }

    public static func load(path: String) throws -> SandboxSeed {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(SandboxSeed.self, from: data)
        } catch {
            throw SandboxError.invalid("seed file \(path): \(error)")
        }
    }
}
