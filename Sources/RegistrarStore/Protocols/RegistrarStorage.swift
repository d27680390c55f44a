/// Everything a backend implements: what `serve` and the CLI open. Callers take the narrowest protocol they need.
public typealias RegistrarStorage = JobQueue & IntakeLedger & DeliveryLog & JobOperations & OrderBook & TokenStore
    & LearnerCache & StoreHealth & CatchUpLedger & CodeBook & InvoiceBook & ContractBook & ReportSource & RefundBook & PriceList & CouponBook & ConsoleSessions & AuditTrail
