enum EmbeddingLayer {
    static func forward<T: TrainScalar>(table: UnsafePointer<T>, wordDim e: Int, ids: [Int]) -> [T] {
        var x = [T](repeating: 0, count: ids.count * e)
        x.withUnsafeMutableBufferPointer { xp in
            for (r, id) in ids.enumerated() { (xp.baseAddress! + r * e).update(from: table + id * e, count: e) }
        }
        return x
    }

    /// dTable[ids[r]] += dx[r] (the ids are distinct).
    static func backward<T: TrainScalar>(dx: UnsafePointer<T>, wordDim e: Int, ids: [Int], dTable: UnsafeMutablePointer<T>) {
        for (r, id) in ids.enumerated() {
            let d = dTable + id * e, s = dx + r * e
            for k in 0..<e { d[k] += s[k] }
        }
    }
}
