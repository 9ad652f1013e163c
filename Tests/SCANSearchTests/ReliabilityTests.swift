import Foundation
import SCANSearch
import TestSupport
import XCTest

/// Interrupted builds, damaged records, searches during appends, bad input files.
final class ReliabilityTests: XCTestCase {
    var world: SearchWorld { SearchWorld.shared }

    func quiet(batch: Int = 64) -> BuildOptions { var o = BuildOptions(); o.showProgress = false; o.batchSize = batch; return o }

    /// A precomp file of `n` images built from the test split's features (rows repeated with a shift).
    func bigFeatures(_ n: Int, at path: String) throws {
        let base = try NPY.read(world.testImages)
        let per = base.rowStride
        var t = Tensor(zeros: [n, base.shape[1], base.shape[2]])
        for i in 0..<n {
            let src = (i % base.shape[0]) * per
            for k in 0..<per { t.data[i * per + k] = base.data[src + k] * (1 + Float(i / base.shape[0]) * 0.01) }
        }
        try NPY.write(t, to: path)
    }

    /// `scan-index build` killed with SIGKILL after some committed batches: the index reopens
    /// consistent (every commit is), searches see the committed images, and re-running the same
    /// command completes it without duplicating any image.
    func testBuildKilledWithSIGKILLResumesToTheFullCount() throws {
        let tmp = makeTempDir(self)
        let n = 3000
        try bigFeatures(n, at: tmp + "/big_ims.npy")
        let index = tmp + "/index"
        let args = ["build", "--model", world.modelFitted, "--features", tmp + "/big_ims.npy", "--index", index,
                    "--batch-size", "10", "--quiet"]
        let (process, finish) = try ToolRunner.start("scan-index", args, in: tmp)
        var seen = 0
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            if FileManager.default.fileExists(atPath: index + "/data.mdb"),
               let m = try? IndexReader(path: index, allowIncomplete: true).manifest {
                seen = m.imageCount
                if seen >= 100 { break }
            }
            usleep(2000)
        }
        XCTAssertTrue(process.isRunning, "the build finished (or failed) before it could be killed: \(seen) images seen; \(finish().stderr)")
        kill(process.processIdentifier, SIGKILL)
        let killed = finish()
        XCTAssertEqual(killed.reason, .uncaughtSignal)
        XCTAssertEqual(killed.status, SIGKILL)

        // Reopened: consistent at the last commit, not complete, searchable.
        let report = try IndexReader(path: index, allowIncomplete: true).verify()
        XCTAssertTrue(report.isOK, report.summary)
        let partial = report.manifest.imageCount
        XCTAssertEqual(report.manifest.state, .building)
        XCTAssertGreaterThanOrEqual(partial, seen)
        XCTAssertLessThan(partial, n)
        XCTAssertEqual(partial % 10, 0, "whole batches only")
        XCTAssertThrowsError(try IndexReader(path: index)) { XCTAssertTrue("\($0)".contains("not complete"), "\($0)") }
        let before = try Searcher(index: index)
        XCTAssertEqual(try before.search(query: "a dog", top: partial + 10, candidates: 5).count, partial)
        let prefix = try IndexReader(path: index, allowIncomplete: true).prefilterMatrix()
        print("killed after \(partial) of \(n) images")

        // Resumed by the same command.
        let resumed = try ToolRunner.run("scan-index", args, in: tmp)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("\(n - partial) images appended; \(partial) of the source's \(n) ids already in the index (same source, skipped)"), resumed.stdout)
        let final = try IndexReader(path: index)
        let full = try final.verify()
        XCTAssertTrue(full.isOK, full.summary)
        XCTAssertEqual(full.manifest.imageCount, n)
        XCTAssertEqual(full.manifest.state, .complete)
        XCTAssertEqual(full.databaseCounts["ids"], n)
        try final.withSnapshot { s in
            for id in ["0", "\(partial - 1)", "\(partial)", "\(n - 1)"] { XCTAssertNotNil(try s.key(forID: id), id) }
        }
        // The images committed before the kill are untouched.
        let after = try final.prefilterMatrix()
        XCTAssertTrue(Array(after.values.prefix(prefix.values.count)) == prefix.values, "the committed images changed")
        XCTAssertEqual(after.keys, (0..<UInt64(n)).map { $0 })
        // The resumed index holds what a build in one go stores (the encoder's products run on other
        // batch shapes, so float16 values may differ by one rounding step).
        let oneGo = tmp + "/one-go"
        _ = try IndexBuilder.build(index: oneGo, modelDirectory: world.modelFitted, source: try PrecompFeatureSource(imagesPath: tmp + "/big_ims.npy"), options: quiet())
        let reference = try IndexReader(path: oneGo).prefilterMatrix().values
        let maxDiff = zip(reference, after.values).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(maxDiff, 1e-3)
        XCTAssertEqual(try Searcher(index: oneGo).search(query: "a kite and a dog", top: 10).map(\.id),
                       try Searcher(index: index).search(query: "a kite and a dog", top: 10).map(\.id))
    }

    /// One flipped byte inside a stored region record: `verify` names it, and a search that decodes
    /// it fails with an error naming the image, never returning it as a result. Searches that do not
    /// touch it still work.
    func testFlippedByteIsReportedByVerifyAndBySearchesThatTouchIt() throws {
        let dir = try world.freshIndex(self, model: world.modelFitted)
        let query = "a dog , a cat and a boat ."
        let victim = try Searcher(index: dir).search(query: query, top: 1)[0]
        let value: [UInt8] = try {
            let r = try IndexReader(path: dir)
            return try r.withSnapshot { Array(try XCTUnwrap(try $0.rawValue($0.databases.regions, key: IndexKey.encode(victim.key)))) }
        }()
        let file = dir + "/data.mdb"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let start = try XCTUnwrap(bytes.range(of: Data(value))?.lowerBound)
        XCTAssertNil(bytes[(start + 1)...].range(of: Data(value)), "record bytes must be unique in the file")
        bytes[start + value.count / 2 + 7] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: file))

        let report = try IndexReader(path: dir).verify()
        XCTAssertFalse(report.isOK)
        XCTAssertEqual(report.corruptKeys, [victim.key], report.summary)
        XCTAssertEqual(report.problems.map(\.database), ["regions"])
        let cli = try ToolRunner.run("scan-index", ["verify", "--index", dir], in: makeTempDir(self))
        XCTAssertEqual(cli.status, 1)
        XCTAssertTrue(cli.stdout.contains("database 'regions', key \(victim.key)") && cli.stdout.contains("FAILED"), cli.stdout)

        let s = try Searcher(index: dir)
        func isNamed(_ e: Error) -> Bool {
            guard case let .corruptRecord(id, key, db, _)? = e as? SearchError else { return false }
            return id == victim.id && key == victim.key && db == "regions" && "\(e)".contains("image '\(victim.id)'")
        }
        XCTAssertThrowsError(try s.search(query: query, top: 10)) { XCTAssertTrue(isNamed($0), "\($0)") }
        XCTAssertThrowsError(try s.search(query: query, top: 10, exact: true)) { XCTAssertTrue(isNamed($0), "\($0)") }
        let cliSearch = try ToolRunner.run("scan-search", [query, "--index", dir, "--json"], in: makeTempDir(self))
        XCTAssertNotEqual(cliSearch.status, 0)
        XCTAssertEqual(cliSearch.stdout, "")
        XCTAssertTrue(cliSearch.stderr.contains("image '\(victim.id)'") && cliSearch.stderr.contains("corrupt"), cliSearch.stderr)

        // A query whose candidates do not include the damaged image is answered normally.
        let other = try XCTUnwrap(try world.queries().map(\.caption).first { c in
            let q = try s.encode(c)
            return try s.prefilterSearch(q, top: 20).allSatisfy { $0.key != victim.key }
        })
        let hits = try s.search(query: other, top: 5, candidates: 20)
        XCTAssertEqual(hits.count, 5)
        XCTAssertFalse(hits.contains { $0.key == victim.key })
    }

    /// A damaged prefilter vector is touched by every search: opening the searcher names it.
    func testFlippedPrefilterByteStopsTheSearchWithTheRecordNamed() throws {
        let dir = try world.freshIndex(self, model: world.modelFitted)
        let key: UInt64 = 5
        let env = try LMDBEnvironment.open(path: dir)
        let dbs = try IndexDatabases(env, create: false)
        var value = try env.read { Array(try XCTUnwrap(try $0.get(dbs.prefilter, key: IndexKey.encode(key)))) }
        value[RecordHeader.size + 3] ^= 0x01
        try env.write { try $0.put(dbs.prefilter, key: IndexKey.encode(key), value: value) }
        // The searcher opens (a server must keep serving the other images), and a search that
        // does not skip corrupt images fails naming the record.
        let searcher = try Searcher(index: dir)
        XCTAssertThrowsError(try searcher.search(query: "a dog", top: 3)) { e in
            guard case let .corruptRecord(id, k, db, _)? = e as? SearchError else { return XCTFail("\(e)") }
            XCTAssertEqual(id, "5")
            XCTAssertEqual(k, key)
            XCTAssertEqual(db, "prefilter")
        }
        XCTAssertEqual(try IndexReader(path: dir).verify().corruptKeys, [key])
    }

    /// Searches while `add` commits small batches: each search reads one commit (all databases agree,
    /// two-stage with every image as candidate equals exact search on the same snapshot), the count
    /// only grows, and the resident prefilter follows the commits.
    func testSearchWhileAddCommitsSeesConsistentSnapshots() throws {
        let tmp = makeTempDir(self)
        let all = try NPY.read(world.testImages)
        let per = all.rowStride
        let first = Tensor(shape: [150] + Array(all.shape.dropFirst()), data: Array(all.data[0..<(150 * per)]))
        let second = Tensor(shape: [250] + Array(all.shape.dropFirst()), data: Array(all.data[(150 * per)...]))
        try NPY.write(first, to: tmp + "/a_ims.npy")
        try NPY.write(second, to: tmp + "/b_ims.npy")
        try ((150..<400).map { "\($0)" }.joined(separator: "\n") + "\n").write(toFile: tmp + "/b_ids.txt", atomically: true, encoding: .utf8)
        let index = tmp + "/index"
        _ = try IndexBuilder.build(index: index, modelDirectory: world.modelFitted, source: try PrecompFeatureSource(imagesPath: tmp + "/a_ims.npy"), options: quiet())
        let searcher = try Searcher(index: index)
        let q = try searcher.encode("a horse , a kite and a bike .")

        final class Outcome: @unchecked Sendable {
            let lock = NSLock()
            var finished = false
            var error: Error?
            func set(_ e: Error?) { lock.lock(); finished = true; error = e; lock.unlock() }
            var isFinished: Bool { lock.lock(); defer { lock.unlock() }; return finished }
        }
        let outcome = Outcome()
        let options = quiet(batch: 5)
        DispatchQueue.global().async {
            do {
                _ = try IndexBuilder.add(index: index, source: try PrecompFeatureSource(imagesPath: tmp + "/b_ims.npy", idsPath: tmp + "/b_ids.txt"),
                                         options: options)
                outcome.set(nil)
            } catch { outcome.set(error) }
        }
        var counts: [Int] = []
        var finished = false
        while !finished {
            finished = outcome.isFinished
            let s = try searcher.snapshot()
            defer { s.close() }
            let n = s.count
            for db in s.databases.perImage { XCTAssertEqual(try s.entryCount(db), n, db.name) }
            XCTAssertTrue((n - 150) % 5 == 0 || n == 400, "\(n)")
            let twoStage = try searcher.search(q, top: 5, candidates: n, snapshot: s)
            let exact = try searcher.search(q, top: 5, exact: true, snapshot: s)
            XCTAssertEqual(twoStage.map(\.id), exact.map(\.id))
            XCTAssertEqual(twoStage.map(\.score), exact.map(\.score))
            XCTAssertTrue(twoStage.allSatisfy { $0.key < UInt64(n) })
            counts.append(n)
        }
        XCTAssertNil(outcome.error)
        XCTAssertEqual(counts, counts.sorted(), "the count only grows")
        XCTAssertEqual(counts.last, 400)
        XCTAssertGreaterThan(Set(counts).count, 2, "searches ran between commits: \(Set(counts).sorted())")
        XCTAssertEqual(searcher.resident.count, 400)
        // The extended resident prefilter answers like a freshly opened searcher.
        XCTAssertEqual(try searcher.search(q, top: 10), try Searcher(index: index).search(query: q.text, top: 10))
    }

    /// A truncated, mismatched or non-finite feature file stops the build with an error naming the
    /// file and the problem, before anything is written: the index is as it was (byte for byte), and a
    /// new index is not even created.
    func testBadFeatureFilesStopTheBuildAndLeaveTheIndexAsItWas() throws {
        let tmp = makeTempDir(self)
        let dir = try world.freshIndex(self, model: world.modelFitted)
        let good = try NPY.read(world.testImages)
        let ids = (0..<400).map { "new-\($0)" }
        try (ids.joined(separator: "\n") + "\n").write(toFile: tmp + "/ids.txt", atomically: true, encoding: .utf8)
        // Truncated: the header promises 400 images.
        try NPY.write(good, to: tmp + "/trunc_ims.npy")
        let data = try Data(contentsOf: URL(fileURLWithPath: tmp + "/trunc_ims.npy"))
        try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: tmp + "/trunc_ims.npy"))
        // Another feature dimension.
        try NPY.write(Tensor(zeros: [400, 4, 20]), to: tmp + "/dim_ims.npy")
        // A NaN in the last image.
        var nan = good
        nan.data[nan.count - 3] = .nan
        try NPY.write(nan, to: tmp + "/nan_ims.npy")

        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/data.mdb"))
        let cases: [(String, String)] = [("trunc_ims.npy", "truncated"), ("dim_ims.npy", "img_dim"), ("nan_ims.npy", "not finite")]
        for (file, phrase) in cases {
            let path = tmp + "/" + file
            func check(_ e: Error) { XCTAssertTrue("\(e)".contains(path) && "\(e)".contains(phrase), "\(file): \(e)") }
            XCTAssertThrowsError(try IndexBuilder.add(index: dir, source: try FeatureSources.open(path: path, ids: tmp + "/ids.txt").source, options: quiet())) { check($0) }
            XCTAssertThrowsError(try IndexBuilder.build(index: tmp + "/new-" + file, modelDirectory: world.modelFitted,
                                                        source: try FeatureSources.open(path: path).source, options: quiet())) { check($0) }
            XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/new-" + file), file)
            let cli = try ToolRunner.run("scan-index", ["add", "--index", dir, "--features", path, "--ids", tmp + "/ids.txt"], in: tmp)
            XCTAssertNotEqual(cli.status, 0)
            XCTAssertTrue(cli.stderr.contains(phrase), "\(file): \(cli.stderr)")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/data.mdb")), before, "\(file): the index changed")
        }
        let m = try IndexReader(path: dir).manifest
        XCTAssertEqual(m.imageCount, 400)
        XCTAssertEqual(m.state, .complete)
    }
}
