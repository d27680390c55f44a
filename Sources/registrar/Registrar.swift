import ArgumentParser

@main
struct Registrar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registrar",
        abstract: "Makes paying for a course and being enrolled in it the same event.",
        discussion: """
            WooCommerce webhooks and CyberSource callbacks come in, are verified and recorded, and become jobs in \
            an SQLite job table; workers make the Open edX calls with retries, backoff and per-learner ordering.
            """,
        subcommands: [
            ServeCommand.self,
            CheckConfigCommand.self,
            MigrateCommand.self,
            StoreCommand.self,
            JobsCommand.self,
            DeliveriesCommand.self,
            WooCommerceCommand.self,
            CodesCommand.self,
            ReportsCommand.self,
            InvoicesCommand.self,
            OrgsCommand.self,
            ContractsCommand.self,
            EnrollCommand.self,
            UnenrollCommand.self,
            CoursesCommand.self,
            OrdersCommand.self,
            PricesCommand.self,
            CouponsCommand.self,
            TokensCommand.self,
            SandboxCommand.self,
            DemoCommand.self,
        ]
    )
}
