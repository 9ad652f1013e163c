/// The word embedding lookup and its dense gradient (every row of the table, most of them zero).
///
/// Shapes: table (V x E), x and dx (T x E) for the T tokens of the batch in caption order.
enum EmbeddingLayer {
    static func forward<T: TrainScalar>(table: UnsafePointer<T>, wordDim e: Int, captions: [[Int]]) -> [T] {
        let tokens = captions.reduce(0) { $0 + $1.count }
        var x = [T](repeating: 0, count: tokens * e)
        x.withUnsafeMutableBufferPointer { xp in
            var row = 0
            for c in captions {
                for id in c {
                    (xp.baseAddress! + row * e).update(from: table + id * e, count: e)
                    row += 1
                }
            }
        }
        return x
    }

    /// dTable[id] += dx[row] for every token (rows of repeated ids accumulate).
    static func backward<T: TrainScalar>(dx: UnsafePointer<T>, wordDim e: Int, captions: [[Int]], dTable: UnsafeMutablePointer<T>) {
        var row = 0
        for c in captions {
            for id in c {
                let d = dTable + id * e, s = dx + row * e
                for k in 0..<e { d[k] += s[k] }
                row += 1
            }
        }
    }
}
