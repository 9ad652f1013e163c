/// The word embedding lookup and its dense gradient (every row of the table, most of them zero).
///
/// The batch's tokens are reduced to their distinct ids first: the lookup gives one row per
/// distinct id, and every token refers to its id's row.
/// Shapes: table (V x E); x and dx (U x E) for the U distinct ids; T tokens.
struct TokenIndex {
    /// The distinct ids in first-seen order (U).
    let ids: [Int]
    /// For every token of the batch, caption after caption: its row in `ids` (T).
    let row: [Int]

    init(captions: [[Int]]) {
        var index: [Int: Int] = [:]
        var ids: [Int] = []
        var row: [Int] = []
        row.reserveCapacity(captions.reduce(0) { $0 + $1.count })
        for c in captions {
            for id in c {
                if let r = index[id] {
                    row.append(r)
                } else {
                    index[id] = ids.count
                    row.append(ids.count)
                    ids.append(id)
                }
            }
        }
        self.ids = ids
        self.row = row
    }
}
