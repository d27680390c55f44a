import Foundation
import RegistrarCore
import Testing

@Suite struct CyberSourcePaymentCheckTests {
    func callback(request: String, auth: String?, currency: String = "usd") -> VerifiedCallback {
        VerifiedCallback(profileID: "0000001", referenceNumber: "R-1", transactionID: "4083708299660176195663",
                         currency: currency, decision: .accept, requestAmount: Money.parse(request)!,
                         authAmount: auth.map { Money.parse($0)! },
                         signedDateTime: Date(timeIntervalSince1970: 1_408_370_830))
    }

    let total = Decimal(sign: .plus, exponent: -2, significand: 4900)

    @Test func equalAmountsAndCurrencyMatch() {
        #expect(PaymentCheck.check(callback(request: "49.00", auth: "49.00"), orderTotal: total, orderCurrency: "usd")
            == .matches)
        // Same value written with another scale.
        #expect(PaymentCheck.check(callback(request: "49", auth: "49.0"), orderTotal: total, orderCurrency: "usd")
            == .matches)
    }

    @Test func currencyComparesIgnoringCase() {
        #expect(PaymentCheck.check(callback(request: "49.00", auth: "49.00", currency: "usd"), orderTotal: total,
                                   orderCurrency: "USD") == .matches)
        #expect(PaymentCheck.check(callback(request: "49.00", auth: "49.00", currency: "UsD"), orderTotal: total,
                                   orderCurrency: "uSd") == .matches)
    }

    @Test func differentCurrencyIsAMismatch() {
        let result = PaymentCheck.check(callback(request: "49.00", auth: "49.00", currency: "eur"), orderTotal: total,
                                        orderCurrency: "USD")
        guard case .currencyMismatch(let detail) = result else {
            Issue.record("expected a currency mismatch, got \(result)")
            return
        }
        #expect(detail.contains("eur") && detail.contains("USD"))
    }

    @Test func partialAuthorisationIsAMismatch() {
        let result = PaymentCheck.check(callback(request: "49.00", auth: "25.00"), orderTotal: total,
                                        orderCurrency: "usd")
        guard case .amountMismatch(let detail) = result else {
            Issue.record("expected an amount mismatch, got \(result)")
            return
        }
        #expect(detail.contains("25.00") && detail.contains("49.00"))
    }

    @Test func requestAmountOtherThanTheTotalIsAMismatch() {
        // Paid in full, but for a cheaper request than the order: a tampered checkout.
        let cheaper = PaymentCheck.check(callback(request: "10.00", auth: "10.00"), orderTotal: total,
                                         orderCurrency: "usd")
        guard case .amountMismatch(let detail) = cheaper else {
            Issue.record("expected an amount mismatch, got \(cheaper)")
            return
        }
        #expect(detail.contains("10.00") && detail.contains("49.00"))
        // Authorised the total, but the signed request says otherwise.
        guard case .amountMismatch = PaymentCheck.check(callback(request: "10.00", auth: "49.00"), orderTotal: total,
                                                        orderCurrency: "usd") else {
            Issue.record("auth equal to the total hid a request mismatch")
            return
        }
        guard case .amountMismatch = PaymentCheck.check(callback(request: "49.01", auth: "49.01"), orderTotal: total,
                                                        orderCurrency: "usd") else {
            Issue.record("one cent over the total matched")
            return
        }
    }

    @Test func missingAuthAmountIsAMismatch() {
        guard case .amountMismatch = PaymentCheck.check(callback(request: "49.00", auth: nil), orderTotal: total,
                                                        orderCurrency: "usd") else {
            Issue.record("a payment without auth_amount matched")
            return
        }
    }
}
