import ArgumentParser

/// `--index DIR | --name NAME`, shared by the tools that open an index. With neither, the tool takes
/// the only index under Indexes/ (the resolution itself is the search library's `IndexLocation`).
public struct IndexLocationOptions: ParsableArguments {
    @Option(help: "Index directory.") public var index: String?
    @Option(help: "Index name: the directory Indexes/NAME.") public var name: String?

    public init() {}

    public func validate() throws {
        if index != nil && name != nil { throw ValidationError("give --index or --name, not both") }
    }
}
