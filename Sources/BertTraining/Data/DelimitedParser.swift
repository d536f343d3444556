/// One record of a delimited file: its fields and the line it starts on (1-based, the header is
/// line 1), or the reason it cannot be read.
struct RawRecord {
    var fields: [String]
    var line: Int
    var problem: String?
}

/// Splits TSV and CSV text into records, byte by byte over UTF-8 (every structural character is
/// ASCII, so a multi-byte character can never be mistaken for one).
///
/// - CSV follows RFC 4180: a field in double quotes may hold the delimiter, newlines and `""`
///   (a literal quote). Python's csv module and pandas write exactly this.
/// - TSV has no quoting (IANA text/tab-separated-values): a line is a record and a leading `"`
///   is part of the text. Reviews that open with a quotation are common (IMDb has hundreds), and
///   quote-aware TSV reading would silently merge them with the following lines.
///
/// CRLF and LF line ends are both accepted; blank lines are skipped, as pandas does.
enum DelimitedParser {
    static func records(_ bytes: [UInt8], delimiter: UInt8, quoting: Bool) throws -> [RawRecord] {
        var records: [RawRecord] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, recordLine = 1
        var problem: String?
        var i = 0
        let n = bytes.count
        let quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func endRecord() {
            endField()
            // A blank line is one empty field with nothing else on it.
            if !(fields.count == 1 && fields[0].isEmpty && problem == nil) {
                records.append(RawRecord(fields: fields, line: recordLine, problem: problem))
            }
            fields.removeAll(keepingCapacity: true)
            problem = nil
        }

        var atFieldStart = true
        while i < n {
            let byte = bytes[i]
            if quoting && atFieldStart && byte == quote {
                // A quoted field: runs to the closing quote, across delimiters and newlines.
                let openedOn = line
                i += 1
                var closed = false
                while i < n {
                    let b = bytes[i]
                    if b == quote {
                        if i + 1 < n && bytes[i + 1] == quote { field.append(quote); i += 2; continue }
                        closed = true
                        i += 1
                        break
                    }
                    if b == lf { line += 1 }
                    field.append(b)
                    i += 1
                }
                guard closed else {
                    throw TrainingDataError(.badRow, "line \(openedOn): a quoted field is never closed (a \" is missing)")
                }
                // Only a delimiter or a line end may follow the closing quote.
                if i < n, bytes[i] != delimiter, bytes[i] != lf, bytes[i] != cr {
                    problem = problem ?? "text after a closing quote (write a literal \" inside a quoted field as \"\")"
                    while i < n, bytes[i] != delimiter, bytes[i] != lf { field.append(bytes[i]); i += 1 }
                }
                atFieldStart = false
                continue
            }
            switch byte {
            case delimiter:
                endField()
                atFieldStart = true
            case lf:
                if field.last == cr { field.removeLast() }
                endRecord()
                line += 1
                recordLine = line
                atFieldStart = true
            default:
                field.append(byte)
                atFieldStart = false
            }
            i += 1
        }
        if field.last == cr { field.removeLast() }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
