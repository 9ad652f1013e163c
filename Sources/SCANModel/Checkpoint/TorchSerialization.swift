import Foundation

/// torch.save's two file layouts, unpickled with `PickleMachine`:
/// - legacy (torch <= 1.5, what the original's torch 0.3/0.4 wrote): the pickles magic number,
///   protocol version, system info, the object (storages as persistent ids), the storage keys, then
///   each storage's raw bytes behind an int64 element count;
/// - zip (torch >= 1.6): `PREFIX/data.pkl` with storages in `PREFIX/data/KEY`.
/// The result is the unpickled object plus, per storage key, where its bytes lie in the input.
struct TorchSerialization {
    enum Layout: String { case legacy, zip }

    struct StorageBytes {
        let dtype: TorchDType
        let count: Int
        /// Byte offset of element 0 in the input.
        let offset: Int
    }

    static let legacyMagic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]  // 0x1950a86a20f9469cfc6c, little-endian
    static let legacyProtocol: Int64 = 1001

    var machine: PickleMachine
    var root: PickleValue = .none
    var layout: Layout = .legacy
    var storages: [String: StorageBytes] = [:]

    init(bytes: UnsafeRawBufferPointer, file: String) throws {
        machine = PickleMachine(file: file)
        if StoredZipArchive.looksLikeZip(bytes) {
            layout = .zip
            try readZip(bytes, file: file)
        } else if bytes.count >= 2, bytes[0] == 0x80 {
            layout = .legacy
            try readLegacy(bytes, file: file)
        } else if bytes.count >= 262, Array(bytes[257..<262]) == Array("ustar".utf8) {
            throw CheckpointError.notACheckpoint(file: file, reason: "a tar archive (torch < 0.1.10's format) is not supported; load and re-save it with any torch")
        } else {
            throw CheckpointError.notACheckpoint(file: file, reason: "it starts with neither a pickle (legacy torch.save) nor a zip header (torch >= 1.6)")
        }
    }

    /// The storages a pickle names through persistent ids, each once: a key named again must name the
    /// same type and size. Both layouts read their storages through it.
    final class StorageRefCollector {
        let legacy: Bool
        private(set) var refs: [String: TorchStorageRef] = [:]

        init(legacy: Bool) { self.legacy = legacy }

        func load(_ m: inout PickleMachine, _ pid: PickleValue, at: Int) throws -> PickleValue {
            let ref = try TorchSerialization.storageRef(m, pid, at: at, legacy: legacy)
            if let seen = refs[ref.key], seen.dtype != ref.dtype || seen.rootCount != ref.rootCount {
                throw CheckpointError.badStorage(file: m.file, storage: ref.key, reason: "named twice with different types or sizes")
            }
            refs[ref.key] = ref
            return m.add(.storage(ref))
        }
    }

    /// The persistent id of a storage: ('storage', type, key, location, count[, view_metadata]).
    fileprivate static func storageRef(_ m: PickleMachine, _ pid: PickleValue, at: Int, legacy: Bool) throws -> TorchStorageRef {
        func bad(_ r: String) -> CheckpointError { .malformedPickle(file: m.file, offset: at, reason: "persistent id: \(r)") }
        guard case let .tuple(items)? = m.object(pid) else { throw bad("not a tuple") }
        guard let tag = items.first, case let .string(kind) = tag else { throw bad("no type tag") }
        guard kind == "storage" else { throw bad("'\(kind)' records (e.g. pickled module source) are not supported, only storages") }
        guard items.count == (legacy ? 6 : 5) else { throw bad("\(items.count) fields for a storage, expected \(legacy ? 6 : 5)") }
        guard case let .global(.storageType(dtype)) = items[1] else { throw bad("the storage type is a \(items[1].kindName), not a torch storage type") }
        let key: String
        switch items[2] {
        case let .string(s): key = s
        case let .int(i): key = String(i)
        default: throw bad("the storage key is a \(items[2].kindName)")
        }
        guard case let .int(n) = items[4], let count = Int(exactly: n), count >= 0 else { throw bad("the element count is not a non-negative integer") }
        var ref = TorchStorageRef(key: key, dtype: dtype, rootCount: count, viewOffset: 0, viewCount: count)
        if legacy, items[5] != .none {
            // torch 0.3 views of a shared storage: (view_key, offset, size) within the root.
            guard case let .tuple(view)? = m.object(items[5]), view.count == 3,
                  case let .int(o) = view[1], case let .int(s) = view[2],
                  let off = Int(exactly: o), let size = Int(exactly: s), off >= 0, size >= 0,
                  off <= count, size <= count - off else {
                throw bad("a storage view outside its root storage \(key) of \(count) elements")
            }
            ref.viewOffset = off
            ref.viewCount = size
        }
        return ref
    }

    private mutating func readZip(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        let zip = try StoredZipArchive(bytes: bytes, file: file)
        let pickles = zip.names.filter { $0.hasSuffix("/data.pkl") && $0.dropLast("/data.pkl".count).firstIndex(of: "/") == nil }
        guard pickles.count == 1, let pkl = pickles.first else {
            throw CheckpointError.badZip(file: file, entry: "PREFIX/data.pkl", reason: pickles.isEmpty ? "missing: not a torch zip checkpoint" : "\(pickles.count) of them")
        }
        let prefix = String(pkl.dropLast("data.pkl".count))
        if zip.entries[prefix + "byteorder"] != nil {
            let order = try zip.data(prefix + "byteorder")
            guard Array(order) == Array("little".utf8) else {
                throw CheckpointError.badZip(file: file, entry: prefix + "byteorder", reason: "'\(String(decoding: order, as: UTF8.self).prefix(16))': only little-endian checkpoints are supported")
            }
        }
        let data = try zip.data(pkl)
        // The pickle is parsed in a copy of its entry, so that offsets in errors count from its start.
        let pickleBytes = Array(data)
        let collector = StorageRefCollector(legacy: false)
        machine.persistentLoad = { m, pid, at in try collector.load(&m, pid, at: at) }
        let (value, end) = try pickleBytes.withUnsafeBytes { try machine.run($0, from: 0) }
        guard end == pickleBytes.count else {
            throw CheckpointError.malformedPickle(file: file, offset: end, reason: "\(pickleBytes.count - end) bytes after STOP in \(pkl)")
        }
        root = value
        for (key, ref) in collector.refs {
            let entry = prefix + "data/" + key
            let b = try zip.data(entry)
            let (need, overflow) = ref.rootCount.multipliedReportingOverflow(by: ref.dtype.byteSize)
            guard !overflow, b.count == need else {
                throw CheckpointError.badStorage(file: file, storage: key, reason: "\(entry) holds \(b.count) bytes, the pickle declares \(ref.rootCount) x \(ref.dtype.byteSize)")
            }
            storages[key] = StorageBytes(dtype: ref.dtype, count: ref.rootCount, offset: zip.entries[entry]?.dataOffset ?? 0)
        }
    }

    private mutating func readLegacy(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        var (magic, end) = try machine.run(bytes, from: 0)
        guard case let .bigInt(m) = magic, m == Self.legacyMagic else {
            throw CheckpointError.notACheckpoint(file: file, reason: "the first pickle is not torch's magic number")
        }
        let protocolValue: PickleValue
        (protocolValue, end) = try machine.run(bytes, from: end)
        guard protocolValue == .int(Self.legacyProtocol) else {
            throw CheckpointError.notACheckpoint(file: file, reason: "legacy protocol version \(protocolValue), expected \(Self.legacyProtocol)")
        }
        let sysInfo: PickleValue
        (sysInfo, end) = try machine.run(bytes, from: end)
        guard case let .dict(info)? = machine.object(sysInfo) else {
            throw CheckpointError.notACheckpoint(file: file, reason: "the system-info pickle is not a dict")
        }
        guard info[string: "little_endian"] == .bool(true) else {
            throw CheckpointError.notACheckpoint(file: file, reason: "written on a big-endian machine (sys_info little_endian is not True); not supported")
        }

        let collector = StorageRefCollector(legacy: true)
        machine.persistentLoad = { m, pid, at in try collector.load(&m, pid, at: at) }
        (root, end) = try machine.run(bytes, from: end)
        machine.persistentLoad = { m, _, at in
            throw CheckpointError.malformedPickle(file: m.file, offset: at, reason: "a persistent id in the storage key list")
        }
        let keyList: PickleValue
        (keyList, end) = try machine.run(bytes, from: end)
        guard case let .list(keys)? = machine.object(keyList) else {
            throw CheckpointError.malformedPickle(file: file, offset: end, reason: "the storage key list is not a list")
        }
        var reader = ByteReader(bytes: bytes, offset: end, file: file)
        for k in keys {
            guard case let .string(key) = k else {
                throw CheckpointError.malformedPickle(file: file, offset: end, reason: "a storage key is a \(k.kindName)")
            }
            guard let ref = collector.refs[key] else {
                throw CheckpointError.badStorage(file: file, storage: key, reason: "listed with data but never used by the object")
            }
            guard storages[key] == nil else { throw CheckpointError.badStorage(file: file, storage: key, reason: "listed twice") }
            let at = reader.offset
            let count = Int64(bitPattern: try reader.uint(8, "the element count of storage \(key)"))
            guard count == Int64(ref.rootCount) else {
                throw CheckpointError.badStorage(file: file, storage: key, reason: "\(count) elements at byte \(at), the pickle declares \(ref.rootCount)")
            }
            let (need, overflow) = ref.rootCount.multipliedReportingOverflow(by: ref.dtype.byteSize)
            guard !overflow else { throw CheckpointError.badStorage(file: file, storage: key, reason: "\(ref.rootCount) elements overflow") }
            let dataStart = reader.offset
            _ = try reader.take(need, "the \(ref.rootCount) \(ref.dtype.rawValue) elements of storage \(key)")
            storages[key] = StorageBytes(dtype: ref.dtype, count: ref.rootCount, offset: dataStart)
        }
        for key in collector.refs.keys where storages[key] == nil {
            throw CheckpointError.badStorage(file: file, storage: key, reason: "used by a tensor but has no data in the file")
        }
    }
}
