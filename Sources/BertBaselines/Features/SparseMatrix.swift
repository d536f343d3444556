/// A CSR matrix (scipy's `csr_array`): row r holds columns[rowStart[r]..<rowStart[r + 1]] with
/// the same range of values. Columns within a row are ascending.
public struct SparseMatrix: Sendable, Equatable {
    public private(set) var rows: Int
    public let columns: Int
    public private(set) var rowStart: [Int]
    public private(set) var columnIndices: [Int32]
    public private(set) var values: [Double]

    public init(columns: Int) {
        self.rows = 0
        self.columns = columns
        self.rowStart = [0]
        self.columnIndices = []
        self.values = []
    }

    /// Adds a row given as (column, value) pairs in any order; columns must be distinct.
    mutating func appendRow(_ entries: [(column: Int32, value: Double)]) {
        for e in entries.sorted(by: { $0.column < $1.column }) {
            columnIndices.append(e.column)
            values.append(e.value)
        }
        rowStart.append(columnIndices.count)
        rows += 1
    }

    public var nonZeros: Int { columnIndices.count }

    /// Row r as (columns, values).
    public func row(_ r: Int) -> (columns: ArraySlice<Int32>, values: ArraySlice<Double>) {
        let range = rowStart[r]..<rowStart[r + 1]
        return (columnIndices[range], values[range])
    }

    /// Row r as a dense array (tests and small checks).
    public func denseRow(_ r: Int) -> [Double] {
        var out = [Double](repeating: 0, count: columns)
        let (c, v) = row(r)
        for (j, x) in zip(c, v) { out[Int(j)] = x }
        return out
    }

    /// The rows at `indices`, in that order.
    func rows(_ indices: [Int]) -> SparseMatrix {
        var out = SparseMatrix(columns: columns)
        for r in indices {
            let range = rowStart[r]..<rowStart[r + 1]
            out.columnIndices.append(contentsOf: columnIndices[range])
            out.values.append(contentsOf: values[range])
            out.rowStart.append(out.columnIndices.count)
            out.rows += 1
        }
        return out
    }

    /// `scipy.sparse.hstack([a, b])`: b's columns follow a's (what FeatureUnion does with the
    /// outputs of its transformers).
    static func hstack(_ a: SparseMatrix, _ b: SparseMatrix) -> SparseMatrix {
        precondition(a.rows == b.rows, "hstack of \(a.rows) and \(b.rows) rows")
        var out = SparseMatrix(columns: a.columns + b.columns)
        out.columnIndices.reserveCapacity(a.nonZeros + b.nonZeros)
        out.values.reserveCapacity(a.nonZeros + b.nonZeros)
        let shift = Int32(a.columns)
        for r in 0..<a.rows {
            let (ac, av) = a.row(r), (bc, bv) = b.row(r)
            out.columnIndices.append(contentsOf: ac)
            out.values.append(contentsOf: av)
            out.columnIndices.append(contentsOf: bc.lazy.map { $0 + shift })
            out.values.append(contentsOf: bv)
            out.rowStart.append(out.columnIndices.count)
        }
        out.rows = a.rows
        return out
    }
}

extension SparseMatrix {
    /// `scipy.sparse.vstack(parts)`: the rows of each part in turn (parts of one transform run
    /// on several threads).
    static func vstack(_ parts: [SparseMatrix], columns: Int) -> SparseMatrix {
        var out = SparseMatrix(columns: columns)
        for part in parts {
            precondition(part.columns == columns, "vstack of \(part.columns) and \(columns) columns")
            let shift = out.nonZeros
            out.columnIndices.append(contentsOf: part.columnIndices)
            out.values.append(contentsOf: part.values)
            out.rowStart.append(contentsOf: part.rowStart.dropFirst().lazy.map { $0 + shift })
            out.rows += part.rows
        }
        return out
    }
}
