import Foundation
import SCANBenchmarks
import SCANSearch
import TestSupport
import XCTest

final class RetentionTests: XCTestCase {
    func testFittedPrefilterWithRerankKeepsExactRecall() throws {
        let w = SearchWorld.shared
        print(String(format: "search world: trained in %.1f s", w.trainingSeconds))
        let ks = [10, 50, 100, 200]
        let queries = try w.queries()
        let t0 = ProgressReporter.now()
        let fitted = try RetentionStudy.run(index: try w.index("fitted", model: w.modelFitted), queries: queries, ks: ks)
        let plain = try RetentionStudy.run(index: try w.index("plain", model: w.modelPlain), queries: queries, ks: ks)
        print(String(format: "retention study: %.1f s", ProgressReporter.now() - t0))
        print(fitted.table)
        print(plain.table)
        let atDefault = try XCTUnwrap(fitted.row(k: Searcher.defaultCandidates))
        for (a, e) in zip(atDefault.recall.values, fitted.exact.values) { XCTAssertGreaterThanOrEqual(a, e - 0.5, fitted.table) }
        // Both indexes hold the same regions: exact recall does not depend on the prefilter.
        XCTAssertEqual(plain.exact, fitted.exact)
        XCTAssertGreaterThan(fitted.exact.r10, 30, "the tiny model should have learned something\n" + fitted.table)
    }
}
