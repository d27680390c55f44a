import CurlHTTP
import Logging
import OpenEdX
import RegistrarCore
import RegistrarServer
import RegistrarStore
import RegistrarWorker
import WooCommerceClient

/// The handlers `serve` runs, by job kind, and the clients they share.
struct Handlers {
    let registry: HandlerRegistry
    let openedx: OpenEdXClient
    let http: CurlHTTPClient

    /// The outbound HTTP client every Open edX (and store) call goes through: the configured timeout and CA bundle.
    static func httpClient(_ config: RegistrarConfig) -> CurlHTTPClient {
        var http = HTTPClientConfiguration()
        http.totalTimeout = .seconds(config.openedx.timeoutSeconds)
        http.caBundlePath = config.openedx.caBundle
        return CurlHTTPClient(configuration: http)
    }

    static func production(config: RegistrarConfig, store: any RegistrarStorage, metrics: RegistrarMetrics, logger: Logger)
        -> Handlers {
        let client = httpClient(config)
        // Instances sharing a database share one budget: together they stay under openedx.requests_per_minute.
        let pacer = (store as? any SharedPacing).map {
            SharedRequestPacer(budget: $0, requestsPerMinute: config.openedx.requestsPerMinute, logger: logger)
        }
        let openedx = OpenEdXClient(settings: OpenEdXSettings(config.openedx), http: client, pacer: pacer) { endpoint, status in
            metrics.outboundCall(target: "openedx", endpoint: endpoint, status: status)
        }
        var registry = HandlerRegistry()
        registry.register(.enroll, EnrollHandler(store: store, client: openedx, unknownLearner: config.openedx.unknownLearner))
        registry.register(.unenroll, UnenrollHandler(store: store, client: openedx))
        registry.register(.rerun, RerunHandler(client: openedx))
        registry.register(.contractSync, ContractSyncHandler(store: store))
        registry.register(.clone, CloneHandler(store: store, client: openedx))
        let woo = WooCommerceRESTClient(http: client) { endpoint, status in
            metrics.outboundCall(target: "woocommerce", endpoint: endpoint, status: status)
        }
        registry.register(.woocommerceRefund, WooCommerceRefundHandler(
            store: store, stores: config.woocommerce.stores, catalog: config.catalog, client: woo))
        let catchUp = WooCommerceCatchUp(store: store, client: woo, catalog: config.catalog,
                                         observer: MetricsCatchUpObserver(metrics: metrics), logger: logger)
        registry.register(.woocommerceCatchUp, WooCommerceCatchUpHandler(catchUp: catchUp, stores: config.woocommerce.stores))
        registry.register(.mail, MailHandler(mail: config.mail, publicURL: config.server.publicURL,
                                             timeout: .seconds(config.openedx.timeoutSeconds), caBundlePath: config.openedx.caBundle))
        return Handlers(registry: registry, openedx: openedx, http: client)
    }
}
