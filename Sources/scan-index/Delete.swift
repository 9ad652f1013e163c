import ArgumentParser
import Foundation
import SCANCommandLine
import SCANSearch

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove images by external id in one commit (searches from then on never return them).",
        discussion: """
        Ids come as arguments or from --ids FILE (one per line). All or nothing: when an id is not in the index, \
        nothing is deleted and the absent ids are named. Searches that started before the commit see their snapshot. \
        The freed pages are reused by later adds; `scan-index info` shows live and deleted counts.

        Example: scan-index delete --name f30k_test --ids gone.txt
        """)

    @OptionGroup var location: IndexLocationOptions
    @Option(help: ArgumentHelp("A file of ids to delete, one per line.", valueName: "file")) var ids: String?
    @Argument(help: "Ids to delete.") var idList: [String] = []

    func validate() throws {
        if ids == nil && idList.isEmpty { throw ValidationError("give ids to delete as arguments or with --ids FILE") }
    }

    func run() throws {
        let path = try location.resolve()
        var all = idList
        if let file = ids {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ValidationError("cannot read --ids \(file): \(error.localizedDescription)")
            }
            all += text.split(separator: "\n", omittingEmptySubsequences: true).map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }
        let r = try IndexMaintenance.delete(index: path, ids: all)
        print("\(path): \(r.deleted) images deleted (\(r.regions) regions); the index holds \(r.manifest.liveCount) live images, \(r.manifest.deletedCount) deleted")
    }
}
