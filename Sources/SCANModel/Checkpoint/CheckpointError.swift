/// Why an original SCAN checkpoint (`model_best.pth.tar`) was refused. Every case names the file and
/// what was expected and found; nothing in a refused file is ever executed.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The bytes end before a structure does (`needed` bytes from `offset`).
    case truncated(file: String, what: String, offset: Int, needed: Int, available: Int)
    /// Neither of torch's serialisations (nor the tar one, which is named as unsupported).
    case notACheckpoint(file: String, reason: String)
    /// A pickle opcode outside the implemented set.
    case unsupportedOpcode(file: String, opcode: UInt8, offset: Int)
    /// A global that is not on the fixed allow-list (it is named, never imported or called).
    case forbiddenGlobal(file: String, module: String, name: String, offset: Int)
    /// A pickle whose operations do not fit together (stack underflow, a missing mark, a call of
    /// something that is not callable with these arguments, a memo slot never written, ...).
    case malformedPickle(file: String, offset: Int, reason: String)
    /// The zip container is not the stored (uncompressed), consistent archive torch writes.
    case badZip(file: String, entry: String, reason: String)
    /// A storage does not hold the bytes a tensor or its declaration needs.
    case badStorage(file: String, storage: String, reason: String)
    /// A tensor's shape, stride or offset does not fit its storage, or its dtype is not supported.
    case badTensor(file: String, tensor: String, reason: String)
    /// The unpickled object is not the dict the original train.py saves, or a part of it is missing.
    case notSCANCheckpoint(file: String, reason: String)
    /// The options (`opt`) and the weights disagree, or a weight has the wrong shape.
    case inconsistent(file: String, field: String, reason: String)
    /// No vocabulary was given and none was found where the original keeps it.
    case vocabularyNotFound(checkpoint: String, looked: [String], hint: String)
    /// The output model directory cannot be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .truncated(file, what, offset, needed, available):
            return "\(file): truncated: \(what) at byte \(offset) needs \(needed) bytes, \(available) remain"
        case let .notACheckpoint(file, reason):
            return "\(file): not a PyTorch checkpoint: \(reason)"
        case let .unsupportedOpcode(file, opcode, offset):
            let hex = String(opcode, radix: 16)
            let printable = (0x21...0x7e).contains(opcode) ? " '\(Character(Unicode.Scalar(opcode)))'" : ""
            return "\(file): pickle opcode 0x\(hex.count == 1 ? "0" + hex : hex)\(printable) at byte \(offset) is not supported by the checkpoint reader"
        case let .forbiddenGlobal(file, module, name, offset):
            return "\(file): the pickle names the global \(module).\(name) (at byte \(offset)), which is not on the checkpoint reader's allow-list; refused, nothing was run"
        case let .malformedPickle(file, offset, reason):
            return "\(file): malformed pickle at byte \(offset): \(reason)"
        case let .badZip(file, entry, reason):
            return "\(file): zip entry \(entry.isEmpty ? "(archive)" : entry): \(reason)"
        case let .badStorage(file, storage, reason):
            return "\(file): storage \(storage): \(reason)"
        case let .badTensor(file, tensor, reason):
            return "\(file): tensor \(tensor): \(reason)"
        case let .notSCANCheckpoint(file, reason):
            return "\(file): not a SCAN checkpoint: \(reason)"
        case let .inconsistent(file, field, reason):
            return "\(file): \(field): \(reason)"
        case let .vocabularyNotFound(checkpoint, looked, hint):
            return "\(checkpoint): no vocabulary: looked for \(looked.joined(separator: ", ")); \(hint)"
        case let .cannotWrite(path, reason):
            return "\(path): cannot write the model directory: \(reason)"
        }
    }
}
