import RegistrarCore
import Testing

@Suite struct WooCommerceMappingTests {
    let demo = "course-v1:edX+DemoX+Demo_Course"
    let run2026 = "course-v1:edX+DemoX+2026"

    func line(product: Int = 50, variation: Int = 0, sku: String? = nil, meta: [String: String] = [:]) -> WooLineItem {
        WooLineItem(id: 1, name: "x", productID: product, variationID: variation, quantity: 1, sku: sku, meta: meta)
    }

    func map(_ line: WooLineItem, _ catalog: [CatalogEntry], store: String = "main") -> CourseMapping? {
        CourseMapper(store: store, catalog: catalog).map(line)
    }

    // MARK: Line meta

    @Test func lineMeta() {
        #expect(map(line(meta: ["_course_id": demo, "_mode": "verified"]), [])
            == CourseMapping(courseID: demo, mode: "verified", source: "line meta"))
        #expect(map(line(meta: ["course_id": demo, "course_mode": "honor"]), [])
            == CourseMapping(courseID: demo, mode: "honor", source: "line meta"))
        #expect(map(line(meta: ["_course_id": demo]), []) == CourseMapping(courseID: demo, mode: nil, source: "line meta"))
    }

    @Test func plainMetaKeysWinOverUnderscored() {
        let meta = ["course_id": demo, "_course_id": run2026, "course_mode": "audit", "_mode": "verified"]
        #expect(map(line(meta: meta), []) == CourseMapping(courseID: demo, mode: "audit", source: "line meta"))
    }

    @Test func blankMetaIsIgnoredAndValuesTrimmed() {
        #expect(map(line(meta: ["course_id": "  ", "_course_id": " \(demo) ", "course_mode": "", "_mode": " verified "]), [])
            == CourseMapping(courseID: demo, mode: "verified", source: "line meta"))
        #expect(map(line(meta: ["_course_id": ""]), []) == nil)
    }

    @Test func metaWinsOverCatalogAndSKU() {
        let catalog = [CatalogEntry(store: "main", productID: 93, courseID: run2026, mode: "audit")]
        #expect(map(line(product: 93, sku: "course-v1:a+b+c", meta: ["_course_id": demo]), catalog)?.source == "line meta")
    }

    // MARK: Catalog

    @Test func catalogByProduct() {
        let catalog = [CatalogEntry(store: "main", productID: 93, courseID: run2026, mode: "audit")]
        #expect(map(line(product: 93), catalog) == CourseMapping(courseID: run2026, mode: "audit", source: "catalog product 93"))
        #expect(map(line(product: 93, variation: 7), catalog)?.courseID == run2026) // no variation in the entry: any
        #expect(map(line(product: 94), catalog) == nil)
        #expect(map(line(product: 93), catalog, store: "other") == nil) // product ids are per store
    }

    @Test func catalogProductEntryWithoutStoreMatchesNothing() {
        // The configuration loader refuses these; the mapper must not guess a store either.
        #expect(map(line(product: 93), [CatalogEntry(productID: 93, courseID: run2026)]) == nil)
    }

    @Test func catalogByVariation() {
        let catalog = [
            CatalogEntry(store: "main", productID: 93, variationID: 2, courseID: "course-v1:edX+DemoX+V2", mode: "verified"),
            CatalogEntry(store: "main", productID: 93, variationID: 1, courseID: "course-v1:edX+DemoX+V1", mode: "audit"),
        ]
        #expect(map(line(product: 93, variation: 1), catalog)?.courseID == "course-v1:edX+DemoX+V1")
        #expect(map(line(product: 93, variation: 2), catalog)?.courseID == "course-v1:edX+DemoX+V2")
        #expect(map(line(product: 93, variation: 3), catalog) == nil)
        #expect(map(line(product: 93, variation: 0), catalog) == nil)
    }

    @Test func catalogBySKU() {
        let anyStore = [CatalogEntry(sku: "DEMO-1", courseID: run2026, mode: "audit")]
        #expect(map(line(sku: "DEMO-1"), anyStore) == CourseMapping(courseID: run2026, mode: "audit", source: "catalog sku DEMO-1"))
        #expect(map(line(sku: "DEMO-1"), anyStore, store: "eu")?.courseID == run2026)
        #expect(map(line(sku: "demo-1"), anyStore) == nil) // exact
        #expect(map(line(sku: nil), anyStore) == nil)
        let mainOnly = [CatalogEntry(store: "main", sku: "DEMO-1", courseID: run2026)]
        #expect(map(line(sku: "DEMO-1"), mainOnly)?.source == "catalog sku DEMO-1")
        #expect(map(line(sku: "DEMO-1"), mainOnly, store: "eu") == nil)
    }

    @Test func entryWithProductAndSKUMatchesEither() {
        let catalog = [CatalogEntry(store: "main", productID: 93, sku: "DEMO-1", courseID: run2026)]
        #expect(map(line(product: 93, sku: "OTHER"), catalog)?.source == "catalog product 93")
        #expect(map(line(product: 12, sku: "DEMO-1"), catalog)?.source == "catalog sku DEMO-1")
        #expect(map(line(product: 93, sku: "DEMO-1"), catalog)?.source == "catalog product 93")
    }

    @Test func firstCatalogEntryInConfigurationOrderWins() {
        let bySKUFirst = [
            CatalogEntry(sku: "DEMO-1", courseID: "course-v1:a+b+sku"),
            CatalogEntry(store: "main", productID: 93, courseID: "course-v1:a+b+product"),
        ]
        #expect(map(line(product: 93, sku: "DEMO-1"), bySKUFirst)?.courseID == "course-v1:a+b+sku")
        #expect(map(line(product: 93, sku: "DEMO-1"), bySKUFirst.reversed())?.courseID == "course-v1:a+b+product")
        let twoProducts = [
            CatalogEntry(store: "main", productID: 93, courseID: "course-v1:a+b+first"),
            CatalogEntry(store: "main", productID: 93, courseID: "course-v1:a+b+second"),
        ]
        #expect(map(line(product: 93), twoProducts)?.courseID == "course-v1:a+b+first")
        // A more specific entry later does not beat an earlier general one: order is the operator's to choose.
        let generalFirst = [
            CatalogEntry(store: "main", productID: 93, courseID: "course-v1:a+b+general"),
            CatalogEntry(store: "main", productID: 93, variationID: 5, courseID: "course-v1:a+b+specific"),
        ]
        #expect(map(line(product: 93, variation: 5), generalFirst)?.courseID == "course-v1:a+b+general")
    }

    // MARK: SKU as course key

    @Test func skuThatIsACourseKey() {
        #expect(map(line(sku: run2026), []) == CourseMapping(courseID: run2026, mode: nil, source: "sku"))
        #expect(map(line(sku: run2026, meta: ["_mode": "verified"]), [])?.mode == "verified")
    }

    @Test(arguments: ["course-v1:edX+DemoX", "course-v1:edX+DemoX+", "course-v1:+DemoX+2026", "course-v1:a+b+c+d",
                      "edX/DemoX/2026", "DEMO-1", "Course-v1:edX+DemoX+2026", ""])
    func skuThatIsNotACourseKey(sku: String) {
        #expect(map(line(sku: sku), []) == nil)
    }

    @Test func catalogWinsOverSKUCourseKey() {
        let catalog = [CatalogEntry(store: "main", productID: 93, courseID: demo, mode: "verified")]
        #expect(map(line(product: 93, sku: run2026), catalog) == CourseMapping(courseID: demo, mode: "verified", source: "catalog product 93"))
    }

    @Test func fixtureLines() throws {
        let order = try WooFixtures.order("order-727-processing.json")
        let mapper = CourseMapper(store: "main", catalog: WooFixtures.catalog)
        #expect(order.lineItems.map(mapper.map) == [
            CourseMapping(courseID: demo, mode: "verified", source: "line meta"),
            CourseMapping(courseID: run2026, mode: "audit", source: "catalog product 93"),
            nil,
        ])
    }

    // MARK: Keys

    @Test func keysAreStable() {
        #expect(WooKeys.enroll(store: "main", order: 727, line: 311) == "woo:main:727:311:enroll")
        #expect(WooKeys.unenroll(store: "main", order: 727, line: 311) == "woo:main:727:311:unenroll")
        #expect(WooKeys.refund(store: "main", order: 727, refund: 731) == "woo:main:727:refund:731")
        #expect(WooKeys.orderSync(store: "main", order: 727, delivery: "d41d8c") == "woo:main:727:sync:d41d8c")
        #expect(WooKeys.orderSerial(store: "main", order: 727) == "woo:main:727")
    }

    @Test func keysDifferByEveryPart() {
        let keys: Set<String> = [
            WooKeys.enroll(store: "main", order: 727, line: 311), WooKeys.enroll(store: "eu", order: 727, line: 311),
            WooKeys.enroll(store: "main", order: 728, line: 311), WooKeys.enroll(store: "main", order: 727, line: 312),
            WooKeys.unenroll(store: "main", order: 727, line: 311), WooKeys.refund(store: "main", order: 727, refund: 311),
            WooKeys.orderSync(store: "main", order: 727, delivery: "311"),
        ]
        #expect(keys.count == 7)
    }
}
