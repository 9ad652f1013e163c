import Foundation

/// Writes a line to standard error: warnings and notes, kept apart from the results on standard output.
public func warn(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
