import Foundation
import SCANSearch
import TestSupport
import XCTest

/// `scan-index delete`: deleted images are never returned after the deleting commit (first stage,
/// re-rank, exact), snapshots taken before still see them, the counts and verify agree, freed space
/// is reused, a killed delete leaves the index at a commit, and an absent id changes nothing.
final class DeleteTests: XCTestCase {
    var world: SearchWorld { SearchWorld.shared }

    func quiet() -> BuildOptions { var o = BuildOptions(); o.showProgress = false; o.batchSize = 64; return o }

    /// Every way of searching, with every image as a candidate, on the newest commit.
    func allResults(_ s: Searcher, _ q: Searcher.Query, n: Int) throws -> [[String]] {
        [try s.search(q, top: n, candidates: n).map(\.id),
         try s.search(q, top: n, exact: true).map(\.id),
         try s.prefilterSearch(q, top: n).map(\.id)]
    }

    func testDeleteWhile100SearchesRun() throws {
        let dir = try world.freshIndex(self, model: world.modelFitted)
        let searchers = [try Searcher(index: dir), try Searcher(index: dir, firstStage: .float32)]
        let queries = try world.queries().prefix(20).map { try searchers[0].encode($0.caption) }
        // The images to delete: every query's best hits, so that a search that still returned one would show.
        var victims = Set<String>()
        for q in queries { for h in try searchers[0].search(q, top: 3) { victims.insert(h.id) } }
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var entries: [(deleted: Int, ids: [String])] = []
            var errors: [String] = []
            func add(_ d: Int, _ ids: [String]) { lock.lock(); entries.append((d, ids)); lock.unlock() }
            func fail(_ e: String) { lock.lock(); errors.append(e); lock.unlock() }
        }
        let log = Log()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            DispatchQueue.concurrentPerform(iterations: 100) { i in
                do {
                    let s = searchers[i % 2]
                    let snap = try s.snapshot()
                    defer { snap.close() }
                    let q = queries[i % queries.count]
                    let hits = try s.search(q, top: 10, snapshot: snap) + (i % 5 == 0 ? try s.search(q, top: 10, exact: true, snapshot: snap) : [])
                    log.add(snap.manifest.deletedCount, hits.map(\.id))
                } catch { log.fail("\(error)") }
            }
            group.leave()
        }
        usleep(20_000)
        let r = try IndexMaintenance.delete(index: dir, ids: victims.sorted())
        group.wait()
        XCTAssertEqual(r.deleted, victims.count)
        XCTAssertEqual(log.errors, [])
        XCTAssertEqual(log.entries.count, 100)
        for e in log.entries where e.deleted > 0 {
            XCTAssertEqual(e.deleted, victims.count)
            XCTAssertTrue(victims.isDisjoint(with: e.ids), "a search on the deleting commit returned a deleted image: \(e.ids)")
        }
        print("searches during the delete: \(log.entries.filter { $0.deleted == 0 }.count) on the commit before, \(log.entries.filter { $0.deleted > 0 }.count) after")
        // After the commit, no way of searching returns a deleted image, even asking for every image.
        for s in searchers {
            for q in queries.prefix(5) {
                for ids in try allResults(s, q, n: 400) {
                    XCTAssertEqual(ids.count, 400 - victims.count)
                    XCTAssertTrue(victims.isDisjoint(with: ids))
                }
            }
        }
        let report = try IndexReader(path: dir).verify()
        XCTAssertTrue(report.isOK, report.summary)
        XCTAssertEqual(report.manifest.deletedCount, victims.count)
        XCTAssertEqual(report.databaseCounts["regions"], 400 - victims.count)
        XCTAssertEqual(report.databaseCounts["prefilter"], 400)
        XCTAssertEqual(report.databaseCounts["deleted"], victims.count)
        let info = try ToolRunner.run("scan-index", ["info", "--index", dir], in: makeTempDir(self))
        XCTAssertTrue(info.stdout.contains("images: \(400 - victims.count) live, \(victims.count) deleted"), info.stdout)
    }

    /// Deleted images come back with `add` (new keys), and the pages they freed are reused.
    func testDeleteThenReAddReusesTheFreedSpace() throws {
        let tmp = makeTempDir(self)
        let all = try NPY.read(world.testImages)
        let per = all.rowStride
        // Big enough region records that the data file's growth is measurable: 400 images x 4 regions x 16 dims is tiny,
        // so index the split 10 times under different ids.
        var t = Tensor(zeros: [4000] + Array(all.shape.dropFirst()))
        for i in 0..<4000 { for k in 0..<per { t.data[i * per + k] = all.data[(i % 400) * per + k] } }
        try NPY.write(t, to: tmp + "/big_ims.npy")
        let index = tmp + "/index", control = tmp + "/control"
        var o = quiet()
        o.compressionLevel = 0
        o.precision = .float32
        for dir in [index, control] {
            _ = try IndexBuilder.build(index: dir, modelDirectory: world.modelFitted, source: try PrecompFeatureSource(imagesPath: tmp + "/big_ims.npy"), options: o)
        }
        func fileSize(_ dir: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: dir + "/data.mdb"))?[.size] as? Int) ?? 0 }
        let before = fileSize(index)
        let gone = (0..<2000).map { "\($0)" }
        let q = try Searcher(index: index).encode(try world.queries()[0].caption)
        _ = try IndexMaintenance.delete(index: index, ids: gone)
        let s = try Searcher(index: index)
        for ids in try allResults(s, q, n: 4000) { XCTAssertEqual(ids.count, 2000); XCTAssertTrue(Set(gone).isDisjoint(with: ids)) }
        // Re-add the same 2000 images under their old ids.
        try (gone.joined(separator: "\n") + "\n").write(toFile: tmp + "/ids.txt", atomically: true, encoding: .utf8)
        var u = Tensor(zeros: [2000] + Array(all.shape.dropFirst()))
        for i in 0..<2000 { for k in 0..<per { u.data[i * per + k] = t.data[i * per + k] } }
        try NPY.write(u, to: tmp + "/again_ims.npy")
        let added = try IndexBuilder.add(index: index, source: try PrecompFeatureSource(imagesPath: tmp + "/again_ims.npy", idsPath: tmp + "/ids.txt"), options: o)
        XCTAssertEqual(added.appended, 2000)
        let report = try IndexReader(path: index).verify()
        XCTAssertTrue(report.isOK, report.summary)
        XCTAssertEqual(report.manifest.liveCount, 4000)
        XCTAssertEqual(report.manifest.deletedCount, 2000)
        XCTAssertEqual(report.manifest.imageCount, 6000)
        let again = try Searcher(index: index)
        for ids in try allResults(again, q, n: 6000) { XCTAssertEqual(Set(ids).count, 4000) }
        XCTAssertEqual(try again.reader.withSnapshot { try $0.key(forID: "0") }, 4000, "re-added under a new key")
        // The control index gets the same 2000 images under new ids without a delete: the index that
        // freed 2000 images' pages first grows by much less.
        try ((0..<2000).map { "new-\($0)" }.joined(separator: "\n") + "\n").write(toFile: tmp + "/new_ids.txt", atomically: true, encoding: .utf8)
        _ = try IndexBuilder.add(index: control, source: try PrecompFeatureSource(imagesPath: tmp + "/again_ims.npy", idsPath: tmp + "/new_ids.txt"), options: o)
        let growth = fileSize(index) - before, controlGrowth = fileSize(control) - before
        print("data.mdb growth adding 2000 images: \(growth) bytes after deleting 2000, \(controlGrowth) bytes without a delete")
        XCTAssertLessThan(Double(growth), 0.6 * Double(controlGrowth))
    }

    /// A delete of 10,000 ids is one commit: killed with SIGKILL, the index verifies and holds either
    /// none or all of the deletions; re-running the command finishes the job (or says there is nothing left).
    func testDeleteOf10000IdsKilledWithSIGKILLThenVerifyAndResume() throws {
        let tmp = makeTempDir(self)
        let all = try NPY.read(world.testImages)
        let per = all.rowStride
        let n = 12_000
        var t = Tensor(zeros: [n] + Array(all.shape.dropFirst()))
        for i in 0..<n { for k in 0..<per { t.data[i * per + k] = all.data[(i % 400) * per + k] * (1 + Float(i / 400) * 0.001) } }
        try NPY.write(t, to: tmp + "/big_ims.npy")
        let index = tmp + "/index"
        var o = quiet()
        o.batchSize = 1000
        _ = try IndexBuilder.build(index: index, modelDirectory: world.modelFitted, source: try PrecompFeatureSource(imagesPath: tmp + "/big_ims.npy"), options: o)
        try ((0..<10_000).map { "\($0 + 1000)" }.joined(separator: "\n") + "\n").write(toFile: tmp + "/gone.txt", atomically: true, encoding: .utf8)
        let args = ["delete", "--index", index, "--ids", tmp + "/gone.txt"]
        var outcomes: [Int] = []
        // Kill at several moments (from start-up to the commit); every outcome is a whole commit.
        for delay in [0, 50_000, 100_000, 150_000, 200_000, 300_000, 450_000, 700_000] where outcomes.last != 10_000 {
            let (process, finish) = try ToolRunner.start("scan-index", args, in: tmp)
            usleep(useconds_t(delay))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            _ = finish()
            let report = try IndexReader(path: index).verify()
            XCTAssertTrue(report.isOK, report.summary)
            XCTAssertTrue([0, 10_000].contains(report.manifest.deletedCount), "a partial delete: \(report.manifest.deletedCount)")
            outcomes.append(report.manifest.deletedCount)
        }
        print("deleted after each SIGKILL: \(outcomes)")
        let resumed = try ToolRunner.run("scan-index", args, in: tmp)
        if outcomes.last == 10_000 {
            XCTAssertNotEqual(resumed.status, 0)
            XCTAssertTrue(resumed.stderr.contains("10000 ids are not in the index") && resumed.stderr.contains("nothing was deleted"), resumed.stderr)
        } else {
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertTrue(resumed.stdout.contains("10000 images deleted"), resumed.stdout)
        }
        let final = try IndexReader(path: index).verify()
        XCTAssertTrue(final.isOK, final.summary)
        XCTAssertEqual(final.manifest.deletedCount, 10_000)
        XCTAssertEqual(final.manifest.liveCount, 2000)
        let s = try Searcher(index: index)
        let ids = try s.search(query: try world.queries()[0].caption, top: 3000, candidates: 3000).map(\.id)
        XCTAssertEqual(ids.count, 2000)
        XCTAssertTrue(ids.allSatisfy { Int($0)! < 1000 || Int($0)! >= 11_000 })
    }

    /// An id the index does not hold: a clear message naming it, exit status 1, nothing changed.
    func testDeletingAnAbsentIdChangesNothing() throws {
        let dir = try world.freshIndex(self, model: world.modelFitted)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/data.mdb"))
        let r = try ToolRunner.run("scan-index", ["delete", "--index", dir, "3", "no-such-image"], in: makeTempDir(self))
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("1 id is not in the index: 'no-such-image'; nothing was deleted"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/data.mdb")), bytes, "the index changed")
        let m = try IndexReader(path: dir).manifest
        XCTAssertEqual(m.deletedCount, 0)
        XCTAssertNotNil(try IndexReader(path: dir).withSnapshot { try $0.key(forID: "3") })
        let none = try ToolRunner.run("scan-index", ["delete", "--index", dir], in: makeTempDir(self))
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("give ids to delete"), none.stderr)
    }
}

/// `scan-index add --replace`: ids the index holds are deleted and re-added in the batch's commit.
final class ReplaceTests: XCTestCase {
    func testAddWithReplaceSwapsTheImagesOfExistingIds() throws {
        let world = SearchWorld.shared
        let dir = try world.freshIndex(self, model: world.modelFitted)
        let tmp = makeTempDir(self)
        let all = try NPY.read(world.testImages)
        let per = all.rowStride
        // Ids 0..9 get the features of images 100..109.
        try NPY.write(Tensor(shape: [10] + Array(all.shape.dropFirst()), data: Array(all.data[(100 * per)..<(110 * per)])), to: tmp + "/r_ims.npy")
        try ((0..<10).map { "\($0)" }.joined(separator: "\n") + "\n").write(toFile: tmp + "/r_ids.txt", atomically: true, encoding: .utf8)
        let skip = try ToolRunner.run("scan-index", ["add", "--index", dir, "--features", tmp + "/r_ims.npy", "--ids", tmp + "/r_ids.txt", "--quiet"], in: tmp)
        // Without --replace, another source's ids are an error (issue 15) that names --replace; nothing changes.
        XCTAssertNotEqual(skip.status, 0)
        XCTAssertTrue(skip.stderr.contains("--replace"), skip.stderr)
        XCTAssertEqual(try IndexReader(path: dir).manifest.imageCount, 400, "without --replace nothing is appended")
        let r = try ToolRunner.run("scan-index", ["add", "--index", dir, "--features", tmp + "/r_ims.npy", "--ids", tmp + "/r_ids.txt", "--quiet", "--replace"], in: tmp)
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try IndexReader(path: dir).verify()
        XCTAssertTrue(report.isOK, report.summary)
        XCTAssertEqual(report.manifest.liveCount, 400)
        XCTAssertEqual(report.manifest.deletedCount, 10)
        let s = try Searcher(index: dir)
        let snap = try s.snapshot()
        defer { snap.close() }
        for i in 0..<10 {
            let key = try XCTUnwrap(try snap.key(forID: "\(i)"))
            XCTAssertGreaterThanOrEqual(key, 400)
            // The new record holds image 100 + i's regions.
            XCTAssertEqual(try snap.regions(key).data, try snap.regions(UInt64(100 + i)).data)
        }
        let q = try s.encode(try world.queries()[0].caption)
        let ids = try s.search(q, top: 400, candidates: 400, snapshot: snap).map(\.id)
        XCTAssertEqual(ids.count, 400)
        XCTAssertEqual(Set(ids).count, 400)
    }
}
