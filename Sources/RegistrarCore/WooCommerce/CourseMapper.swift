/// Where a line's course run came from, so an operator can tell why a line was (or was not) enrolled.
public struct CourseMapping: Sendable, Equatable {
    public var courseID: String
    public var mode: String?
    /// "line meta", "catalog product 93", "catalog sku DEMO-1", "sku".
    public var source: String

    public init(courseID: String, mode: String? = nil, source: String) {
        self.courseID = courseID
        self.mode = mode
        self.source = source
    }
}

/// Maps an order line to a course run. The order payload does not carry product meta (where the Open edX
/// plugin kept `_course_id`), only product id, variation id, SKU and line meta; so, first match wins:
/// 1. line meta `course_id` or `_course_id` (mode `course_mode` or `_mode`): the store said so on this very sale;
/// 2. the catalog, in configuration order: `product_id` (+ `variation_id`) in this store, or `sku`;
/// 3. a SKU that is itself a course key (`course-v1:ORG+NUMBER+RUN`).
public struct CourseMapper: Sendable {
    public let store: String
    public let catalog: [CatalogEntry]

    public init(store: String, catalog: [CatalogEntry]) {
        self.store = store
        self.catalog = catalog
    }

    public func map(_ line: WooLineItem) -> CourseMapping? {
        let metaMode = Self.value(line.meta, "course_mode", "_mode")
        if let courseID = Self.value(line.meta, "course_id", "_course_id") {
            return CourseMapping(courseID: courseID, mode: metaMode, source: "line meta")
        }
        for entry in catalog {
            if let productID = entry.productID, entry.store == store, productID == line.productID,
               entry.variationID == nil || entry.variationID == line.variationID {
                return CourseMapping(courseID: entry.courseID, mode: entry.mode, source: "catalog product \(productID)")
            }
            // SKUs can be shared across stores, so an entry naming a store only matches that store's lines.
            if let sku = entry.sku, let lineSKU = line.sku, sku == lineSKU, entry.store == nil || entry.store == store {
                return CourseMapping(courseID: entry.courseID, mode: entry.mode, source: "catalog sku \(sku)")
            }
        }
        if let sku = line.sku, CourseKey(sku) != nil {
            return CourseMapping(courseID: sku, mode: metaMode, source: "sku")
        }
        return nil
    }

    /// The first of `keys` with a non-blank value, trimmed.
    private static func value(_ meta: [String: String], _ keys: String...) -> String? {
        for key in keys {
            if let value = meta[key]?.trimmingWhitespace, !value.isEmpty { return value }
        }
        return nil
    }
}
