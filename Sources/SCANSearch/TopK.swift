/// Partial selection of the best `k` of many scores (a bounded heap, no full sort).
public enum TopK {
    /// Positions of the `k` largest scores, best first; equal scores in position order.
    public static func select(_ scores: UnsafeBufferPointer<Float>, k: Int) -> [Int] {
        let n = scores.count
        let k = min(max(0, k), n)
        if k == 0 { return [] }
        // Min-heap on (score, -position): the root is the worst kept entry.
        var heap = [Int]()
        heap.reserveCapacity(k)
        @inline(__always) func worse(_ a: Int, _ b: Int) -> Bool {
            let sa = scores[a], sb = scores[b]
            return sa < sb || (sa == sb && a > b)
        }
        func siftUp(_ i0: Int) {
            var i = i0
            while i > 0 {
                let p = (i - 1) / 2
                if worse(heap[i], heap[p]) { heap.swapAt(i, p); i = p } else { return }
            }
        }
        func siftDown(_ i0: Int) {
            var i = i0
            let c = heap.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < c && worse(heap[l], heap[m]) { m = l }
                if r < c && worse(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in 0..<n {
            if heap.count < k {
                heap.append(i)
                siftUp(heap.count - 1)
            } else if worse(heap[0], i) {
                heap[0] = i
                siftDown(0)
            }
        }
        return heap.sorted { worse($1, $0) }
    }

    public static func select(_ scores: [Float], k: Int) -> [Int] {
        scores.withUnsafeBufferPointer { select($0, k: k) }
    }
}
