import Foundation

extension SandboxSeed {
    public static let demoCourseID = "course-v1:edX+DemoX+Demo_Course"
    public static let demoCourse2026ID = "course-v1:edX+DemoX+2026"

    /// What `registrar demo` and quick manual runs start from: four learners, the two DemoX
    /// runs, an unfulfilled order 727 for audrey (verified Demo_Course + audit 2026; the store
    /// sets `_course_id`/`_mode` line meta and products 87/88), and order 730 for bruno,
    /// completed then fully refunded by refund 731.
    public static var demo: SandboxSeed {
        SandboxSeed(
            users: [
                User(username: "audrey", email: "audrey@example.com", name: "Audrey Hall"),
                User(username: "bruno", email: "bruno@example.com", name: "Bruno Costa"),
                User(username: "chen", email: "chen@example.com", name: "Chen Wei"),
                User(username: "dana", email: "dana@example.com", name: "Dana Okafor"),
            ],
            courses: [
                Course(id: demoCourseID, title: "Demonstration Course", modes: ["audit", "verified"]),
                Course(id: demoCourse2026ID, title: "Demonstration Course 2026", modes: ["audit", "verified"]),
            ],
            woocommerce: WooCommerce(
                orders: [
                    demoOrder(
                        id: 727, status: "processing", email: "audrey@example.com", first: "Audrey", last: "Hall",
                        lines: [
                            (311, 87, demoCourseID, "verified", "49.00"),
                            (312, 88, demoCourse2026ID, "audit", "0.00"),
                        ],
                        refunds: []
                    ),
                    demoOrder(
                        id: 730, status: "refunded", email: "bruno@example.com", first: "Bruno", last: "Costa",
                        lines: [(315, 87, demoCourseID, "verified", "49.00")],
                        refunds: [["id": 731, "reason": "Changed mind", "total": "-49.00"]]
                    ),
                ],
                refunds: [
                    Refund(
                        orderID: 730,
                        refund: [
                            "id": 731, "amount": "49.00", "reason": "Changed mind", "refunded_by": 1,
                            "refunded_payment": true, "date_created_gmt": "2026-01-12T10:00:00",
                            "line_items": [
                                [
                                    "id": 316, "name": "Demonstration Course (verified)", "product_id": 87,
                                    "variation_id": 0, "quantity": -1, "subtotal": "-49.00", "total": "-49.00",
                                    "sku": "DEMOX-VERIFIED", "price": -49,
                                    "meta_data": [["id": 2080, "key": "_refunded_item_id", "value": "315"]],
                                ]
                            ],
                        ]
                    )
                ]
            )
        )
    }

    private static func demoOrder(
        id: Int, status: String, email: String, first: String, last: String,
        lines: [(id: Int, product: Int, course: String, mode: String, price: String)],
        refunds: [SandboxJSON]
    ) -> SandboxJSON {
        let total = lines.reduce(0.0) { $0 + (Double($1.price) ?? 0) }
        let lineItems: [SandboxJSON] = lines.map { line in
            [
                "id": .int(line.id),
                "name": .string(line.mode == "verified" ? "Demonstration Course (verified)" : "Demonstration Course (audit)"),
                "product_id": .int(line.product), "variation_id": 0, "quantity": 1,
                "subtotal": .string(line.price), "total": .string(line.price),
                "sku": .string(line.mode == "verified" ? "DEMOX-VERIFIED" : "DEMOX-AUDIT"),
                "price": .double(Double(line.price) ?? 0),
                "meta_data": [
                    ["id": .int(line.id * 10 + 1), "key": "_course_id", "value": .string(line.course),
                     "display_key": "_course_id", "display_value": .string(line.course)],
                    ["id": .int(line.id * 10 + 2), "key": "_mode", "value": .string(line.mode),
                     "display_key": "_mode", "display_value": .string(line.mode)],
                ],
            ]
        }
        return [
            "id": .int(id), "parent_id": 0, "number": .string(String(id)), "order_key": .string("wc_order_demo\(id)"),
            "status": .string(status), "currency": "USD", "total": .string(String(format: "%.2f", total)),
            "date_created_gmt": "2026-01-10T09:00:00", "date_modified_gmt": "2026-01-12T10:00:00",
            "date_paid_gmt": "2026-01-10T09:01:00", "customer_id": 0,
            "billing": ["first_name": .string(first), "last_name": .string(last), "email": .string(email)],
            "payment_method": "cybersource", "transaction_id": .string("demo-txn-\(id)"),
            "meta_data": [], "line_items": .array(lineItems), "refunds": .array(refunds), "_links": [:],
        ]
    }
}
