import Foundation
import TestSupport
import XCTest

/// The dependency graph that Package.swift draws in its comment, one line per target, equals both the
/// targets' declared dependencies and the modules their sources import; and no product library
/// imports a target that is not a product.
final class PackageGraphTests: XCTestCase {
    static let systemModules: Set<String> = ["Foundation", "Glibc", "Dispatch", "XCTest", "Darwin", "FoundationEssentials"]

    var root: URL { ReferenceFixtures.packageRoot }

    func packageText() throws -> String { try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8) }

    /// `target name -> declared dependencies` from the `.target`/`.executableTarget` lines.
    func declared(_ text: String) -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        let aliases = ["argumentParser": "ArgumentParser"]
        for line in text.split(separator: "\n") where line.contains(".target(name:") || line.contains(".executableTarget(name:") {
            guard let name = line.firstMatch(of: #/name: "([^"]+)"/#)?.1 else { continue }
            var deps: Set<String> = []
            if let found = line.firstMatch(of: #/dependencies: \[([^\]]*)\]/#)?.1 {
                // `.product(name: "X", package: "y")` depends on X; the package name is not a module.
                let list = found.replacing(#/,\s*package:\s*"[^"]*"/#, with: "")
                for m in list.matches(of: #/"([^"]+)"|\.product\(name: "([^"]+)"|([A-Za-z]+)/#) {
                    if let quoted = m.1 { deps.insert(String(quoted)) } else if let product = m.2 { deps.insert(String(product)) }
                    else if let alias = m.3, let real = aliases[String(alias)] { deps.insert(real) }
                }
            }
            out[String(name)] = deps
        }
        return out
    }

    /// `target -> modules imported by its sources` for the targets under Sources/ and Tools/.
    func imports(_ targets: [String]) throws -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for t in targets {
            let candidates = [root.appendingPathComponent("Sources/\(t)"), root.appendingPathComponent("Tools/\(t)")]
            guard let dir = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else { continue }
            var mods: Set<String> = []
            let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
            for f in files where f.pathExtension == "swift" {
                for line in try String(contentsOf: f, encoding: .utf8).split(separator: "\n") {
                    if let m = line.firstMatch(of: #/^(?:@_exported |@testable )?import ([A-Za-z_]+)/#) { mods.insert(String(m.1)) }
                }
            }
            out[t] = mods.subtracting(Self.systemModules)
        }
        return out
    }

    func testDeclaredDependenciesEqualImportsAndTheComment() throws {
        let text = try packageText()
        let decl = declared(text)
        XCTAssertFalse(decl.isEmpty, "no targets parsed from Package.swift")
        let imp = try imports(Array(decl.keys))
        for (t, mods) in imp.sorted(by: { $0.key < $1.key }) {
            let d = decl[t] ?? []
            XCTAssertEqual(mods, d, "\(t): imports \(mods.sorted()) but declares \(d.sorted())")
        }
        // The comment: lines `//   A, B -> X, Y   description`.
        var drawn: [String: Set<String>] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("//   ") && line.contains("->") {
            let body = line.dropFirst(5)
            let parts = body.components(separatedBy: "->")
            guard parts.count == 2 else { continue }
            let lhs = parts[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let rhsText = parts[1].components(separatedBy: "   ").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
            let rhs = Set(rhsText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            for t in lhs { drawn[t] = rhs }
        }
        for (t, d) in decl where imp[t] != nil && (drawn[t] != nil || !d.isEmpty) {
            XCTAssertEqual(drawn[t] ?? [], d, "\(t): the comment draws \((drawn[t] ?? []).sorted()), Package.swift declares \(d.sorted())")
        }
    }

    func testProductLibrariesImportNoNonProductTarget() throws {
        let text = try packageText()
        let products = Set(text.matches(of: #/\.library\(name: "([^"]+)"/#).map { String($0.1) })
        XCTAssertTrue(products.contains("SCANSearch"))
        let imp = try imports(Array(products))
        for (t, mods) in imp {
            XCTAssertTrue(mods.isDisjoint(with: ["SCANSynthetic", "SCANBenchmarks", "TestSupport"]), "\(t) imports \(mods.sorted())")
        }
        XCTAssertFalse(imp["SCANSearch"]?.contains("SCANTraining") ?? true, "search imports training")
        XCTAssertFalse(imp["SCANIndex"]?.contains("SCANModel") ?? true, "the index imports the model")
    }
}
