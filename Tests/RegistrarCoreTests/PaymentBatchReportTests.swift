import Foundation
import RegistrarCore
import TestSupport
import Testing

/// The strict CSV reader and CyberSource's Payment Batch Detail Report on top of it.
@Suite struct PaymentBatchReportTests {
    let sample = "Payment Batch Detail Report,1.0,2003-05-01 to 2003-05-01,,,,,,,\r\n"
        + "batch_id,merchant_id,batch_date,request_id,merchant_ref_number,trans_ref_no,payment_method,currency,amount,transaction_type\r\n"
        + "123456,CyberSource,2003-05-01,0004172180000167905139,45CBBDE3378A553,5652882910,Visa,USD,100.00,ics_bill\r\n"
        + "123456,CyberSource,2003-05-01,0004173790000167905139,5DADC3D2F4B7118,5629152830,Visa,USD,-100.00,ics_credit\r\n"

    @Test func theGuidesSampleIsRead() throws {
        let report = try PaymentBatchReport.parse(sample).get()
        #expect(report.period == "2003-05-01 to 2003-05-01")
        #expect(report.rows.map(\.kind) == [.payment, .refund])
        #expect(report.rows.map(\.amount) == [100, -100])
        #expect(report.rows[0].requestID == "0004172180000167905139" && report.rows[0].merchantReference == "45CBBDE3378A553")
        #expect(report.rows.map(\.line) == [3, 4])
    }

    @Test func malformedFilesAreRefusedWithTheirLineAndColumn() {
        func problem(_ text: String) -> CSVReader.Problem? {
            if case .failure(let problem) = PaymentBatchReport.parse(text) { return problem }
            return nil
        }
        #expect(problem("batch_id,amount\r\n") == .init(line: 1, column: 1, message: "not a Payment Batch Detail Report: the first record must begin \"Payment Batch Detail Report\""))
        #expect(problem(sample.replacingOccurrences(of: "USD,100.00", with: "USD,1O0.00"))
                == .init(line: 3, column: 9, message: "amount \"1O0.00\" is not a decimal amount"))
        #expect(problem(sample.replacingOccurrences(of: "ics_bill", with: "ics_auth"))?.column == 10)
        #expect(problem(sample + "123,CyberSource,2003-05-01\r\n") == .init(line: 5, column: 1, message: "3 fields where the column names give 10"))
        #expect(problem(sample + "1,\"unclosed\r\n")?.message == "a quoted field is never closed")
        #expect(problem(sample + "1,ab\"c\r\n") == .init(line: 5, column: 5, message: "a quote inside an unquoted field"))
        #expect(problem(sample + "1,\"a\"b\r\n") == .init(line: 5, column: 6, message: "text after a quoted field's closing quote"))
        #expect(problem(sample + "1,2\r3\r\n") == .init(line: 5, column: 4, message: "a carriage return not followed by a line feed"))
        #expect(problem(sample.replacingOccurrences(of: "45CBBDE3378A553", with: ""))?.message == "merchant_ref_number is empty")
    }

    @Test func quotedFieldsHoldCommasQuotesAndLineBreaks() throws {
        let records = try CSVReader.read("a,\"b,\"\"c\"\"\r\nd\",\r\n\"\",e").get()
        #expect(records.map(\.fields) == [["a", "b,\"c\"\r\nd", ""], ["", "e"]])
        #expect(records.map(\.line) == [1, 3])
        #expect(try CSVReader.read("\u{FEFF}x\n").get().map(\.fields) == [["x"]], "a byte order mark and a bare LF at the end of a line")
        #expect(try CSVReader.read("").get().isEmpty)
    }

    /// What the writer writes, the reader reads back, whatever the fields hold.
    @Test func whatTheWriterWritesTheReaderReadsBack() throws {
        var random = SeededRandom(seed: SeededRandom.seed(from: "CSV_SEED", default: 0xC5F))
        let alphabet = Array("ab ,\"\r\nçé€😀1-")
        for _ in 0..<300 {
            let width = Int.random(in: 1...5, using: &random)
            let rows = (0..<Int.random(in: 1...6, using: &random)).map { _ in
                (0..<width).map { _ in String((0..<Int.random(in: 0...8, using: &random)).map { _ in alphabet.randomElement(using: &random)! }) }
            }
            var writer = CSVWriter(header: rows[0])
            for row in rows.dropFirst() { writer.add(row) }
            let read = try CSVReader.read(writer.text).get().map(\.fields)
            #expect(read == rows, "\(writer.text.debugDescription)")
        }
    }
}
