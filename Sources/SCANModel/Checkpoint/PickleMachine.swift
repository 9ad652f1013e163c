import Foundation

/// A pickle virtual machine restricted to data: the opcodes of protocols 0-5 that build values and
/// containers, plus the few calls torch checkpoints make, which it performs itself for the globals of
/// `PickleGlobal`. It never imports or calls anything; an unknown opcode or global is an error naming
/// it. Memory is bounded by the input: each opcode adds at most one constant-size value, strings
/// are bounded by the bytes they come from, and containers are referenced by arena index.
public struct PickleMachine {
    public let file: String
    /// Every container built so far (shared by consecutive pickles of one legacy file).
    public private(set) var arena: [PickleObject] = []
    /// Called for BINPERSID / PERSID: turns a persistent id into a value (a storage).
    var persistentLoad: (inout PickleMachine, PickleValue, Int) throws -> PickleValue = { m, _, offset in
        throw CheckpointError.malformedPickle(file: m.file, offset: offset, reason: "a persistent id outside a torch checkpoint")
    }

    public init(file: String) { self.file = file }

    public func object(_ v: PickleValue) -> PickleObject? {
        guard case let .object(i) = v, arena.indices.contains(i) else { return nil }
        return arena[i]
    }

    mutating func add(_ o: PickleObject) -> PickleValue {
        arena.append(o)
        return .object(arena.count - 1)
    }

    /// Runs one pickle that starts at `start` of `bytes`; returns its value and the offset after STOP.
    public mutating func run(_ bytes: UnsafeRawBufferPointer, from start: Int) throws -> (value: PickleValue, end: Int) {
        var reader = ByteReader(bytes: bytes, offset: start, file: file)
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        let file = self.file

        func malformed(_ at: Int, _ reason: String) -> CheckpointError {
            .malformedPickle(file: file, offset: at, reason: reason)
        }
        func pop(_ at: Int) throws -> PickleValue {
            guard let v = stack.popLast() else { throw malformed(at, "the stack is empty") }
            if let m = marks.last, stack.count < m { throw malformed(at, "an operation reached below a mark") }
            return v
        }
        func popMark(_ at: Int) throws -> [PickleValue] {
            guard let m = marks.popLast() else { throw malformed(at, "no mark on the stack") }
            guard m <= stack.count else { throw malformed(at, "the mark is above the stack") }
            let items = Array(stack[m...])
            stack.removeSubrange(m...)
            return items
        }
        func top(_ at: Int) throws -> PickleValue {
            guard let v = stack.last else { throw malformed(at, "the stack is empty") }
            if let m = marks.last, stack.count <= m { throw malformed(at, "an operation reached below a mark") }
            return v
        }
        func memoGet(_ i: Int, _ at: Int) throws -> PickleValue {
            guard let v = memo[i] else { throw malformed(at, "memo slot \(i) was never written") }
            return v
        }
        func memoPut(_ i: Int, _ at: Int) throws {
            guard i >= 0 else { throw malformed(at, "negative memo index \(i)") }
            memo[i] = try top(at)
        }
        func string(latin1 b: UnsafeRawBufferPointer) -> String {
            // Python 2 `str`: the original's checkpoints; decoded as latin-1 (every byte is one code point).
            String(String.UnicodeScalarView(b.map { Unicode.Scalar($0) }))
        }
        func string(utf8 b: UnsafeRawBufferPointer, _ at: Int) throws -> String {
            guard let s = String(bytes: b, encoding: .utf8) else { throw malformed(at, "a string that is not valid UTF-8") }
            return s
        }
        func setItems(_ target: PickleValue, _ items: [PickleValue], _ at: Int) throws {
            guard items.count % 2 == 0 else { throw malformed(at, "an odd number of items for a dict") }
            guard case let .object(i) = target, arena.indices.contains(i), case var .dict(d) = arena[i] else {
                throw malformed(at, "SETITEM(S) on a \(describe(target)), not a dict")
            }
            arena[i] = .tuple([])  // keep the dict uniquely referenced while it grows
            var k = 0
            while k < items.count {
                d[items[k]] = items[k + 1]
                k += 2
            }
            arena[i] = .dict(d)
        }
        func append(_ target: PickleValue, _ items: [PickleValue], _ at: Int) throws {
            guard case let .object(i) = target, arena.indices.contains(i), case var .list(l) = arena[i] else {
                throw malformed(at, "APPEND(S) on a \(describe(target)), not a list")
            }
            arena[i] = .tuple([])
            l.append(contentsOf: items)
            arena[i] = .list(l)
        }
        func describe(_ v: PickleValue) -> String {
            guard case let .object(i) = v, arena.indices.contains(i) else { return v.kindName }
            switch arena[i] {
            case .list: return "list"
            case .tuple: return "tuple"
            case .dict: return "dict"
            case .namespace: return "argparse.Namespace"
            case .tensor: return "tensor"
            case .storage: return "storage"
            }
        }
        func tupleItems(_ v: PickleValue, _ at: Int, _ what: String) throws -> [PickleValue] {
            guard case let .object(i) = v, arena.indices.contains(i), case let .tuple(t) = arena[i] else {
                throw malformed(at, "\(what) must be a tuple, found a \(describe(v))")
            }
            return t
        }
        func global(_ module: String, _ name: String, _ at: Int) throws -> PickleValue {
            guard let g = PickleGlobal.resolve(module: module, name: name) else {
                throw CheckpointError.forbiddenGlobal(file: file, module: module, name: name, offset: at)
            }
            return .global(g)
        }

        while true {
            let at = reader.offset
            let op = try reader.byte("an opcode")
            switch op {
            case 0x80:  // PROTO
                let p = try reader.byte("the protocol number")
                guard p <= 5 else { throw malformed(at, "pickle protocol \(p) is newer than 5") }
            case 0x95:  // FRAME: a length hint; the frame's opcodes follow inline.
                _ = try reader.uint(8, "a frame length")
            case 0x2e:  // STOP
                let v = try pop(at)
                guard marks.isEmpty else { throw malformed(at, "STOP with a mark still open") }
                return (v, reader.offset)
            case 0x28: marks.append(stack.count)  // MARK
            case 0x30: _ = try pop(at)  // POP
            case 0x31: _ = try popMark(at)  // POP_MARK
            case 0x32: stack.append(try top(at))  // DUP
            case 0x4e: stack.append(.none)  // NONE
            case 0x88: stack.append(.bool(true))  // NEWTRUE
            case 0x89: stack.append(.bool(false))  // NEWFALSE
            case 0x4b: stack.append(.int(Int64(try reader.uint(1, "BININT1"))))
            case 0x4d: stack.append(.int(Int64(try reader.uint(2, "BININT2"))))
            case 0x4a:  // BININT: signed 32 bits
                stack.append(.int(Int64(Int32(truncatingIfNeeded: try reader.uint(4, "BININT")))))
            case 0x8a, 0x8b:  // LONG1, LONG4
                let n = op == 0x8a ? Int(try reader.uint(1, "LONG1 length")) : try reader.length(4, "LONG4 length")
                let b = try reader.take(n, "LONG bytes")
                stack.append(Self.integer(littleEndian: b))
            case 0x49, 0x4c:  // INT, LONG (text)
                let line = try reader.line("INT/LONG")
                var text = line
                if op == 0x4c, text.hasSuffix("L") { text.removeLast() }
                if op == 0x49, text == "01" { stack.append(.bool(true)); break }
                if op == 0x49, text == "00" { stack.append(.bool(false)); break }
                guard let v = Int64(text) else { throw malformed(at, "integer text '\(line.prefix(40))' is not a 64-bit integer") }
                stack.append(.int(v))
            case 0x47:  // BINFLOAT: big-endian double
                stack.append(.float(Double(bitPattern: try reader.uintBigEndian(8, "BINFLOAT"))))
            case 0x46:  // FLOAT (text)
                let line = try reader.line("FLOAT")
                guard let d = Double(line) else { throw malformed(at, "float text '\(line.prefix(40))'") }
                stack.append(.float(d))
            case 0x55, 0x54:  // SHORT_BINSTRING, BINSTRING: Python 2 str
                let n = op == 0x55 ? Int(try reader.uint(1, "SHORT_BINSTRING length")) : try reader.length(4, "BINSTRING length")
                stack.append(.string(string(latin1: try reader.take(n, "string bytes"))))
            case 0x8c, 0x58, 0x8d:  // SHORT_BINUNICODE, BINUNICODE, BINUNICODE8
                let n = op == 0x8c ? Int(try reader.uint(1, "SHORT_BINUNICODE length")) : try reader.length(op == 0x58 ? 4 : 8, "BINUNICODE length")
                stack.append(.string(try string(utf8: try reader.take(n, "string bytes"), at)))
            case 0x43, 0x42, 0x8e:  // SHORT_BINBYTES, BINBYTES, BINBYTES8
                let n = op == 0x43 ? Int(try reader.uint(1, "SHORT_BINBYTES length")) : try reader.length(op == 0x42 ? 4 : 8, "BINBYTES length")
                stack.append(.bytes(Array(try reader.take(n, "bytes"))))
            case 0x5d: stack.append(add(.list([])))  // EMPTY_LIST
            case 0x7d: stack.append(add(.dict(PickleDict())))  // EMPTY_DICT
            case 0x29: stack.append(add(.tuple([])))  // EMPTY_TUPLE
            case 0x6c: stack.append(add(.list(try popMark(at))))  // LIST
            case 0x74: stack.append(add(.tuple(try popMark(at))))  // TUPLE
            case 0x85:  // TUPLE1
                let a = try pop(at)
                stack.append(add(.tuple([a])))
            case 0x86:  // TUPLE2
                let b = try pop(at), a = try pop(at)
                stack.append(add(.tuple([a, b])))
            case 0x87:  // TUPLE3
                let c = try pop(at), b = try pop(at), a = try pop(at)
                stack.append(add(.tuple([a, b, c])))
            case 0x64:  // DICT
                let items = try popMark(at)
                let d = add(.dict(PickleDict()))
                try setItems(d, items, at)
                stack.append(d)
            case 0x61:  // APPEND
                let v = try pop(at)
                try append(try top(at), [v], at)
            case 0x65:  // APPENDS
                let items = try popMark(at)
                try append(try top(at), items, at)
            case 0x73:  // SETITEM
                let v = try pop(at), k = try pop(at)
                try setItems(try top(at), [k, v], at)
            case 0x75:  // SETITEMS
                let items = try popMark(at)
                try setItems(try top(at), items, at)
            case 0x71: try memoPut(Int(try reader.uint(1, "BINPUT index")), at)
            case 0x72: try memoPut(try reader.length(4, "LONG_BINPUT index"), at)
            case 0x94: try memoPut(memo.count, at)  // MEMOIZE
            case 0x70:  // PUT (text)
                guard let i = Int(try reader.line("PUT")) else { throw malformed(at, "PUT index is not a number") }
                try memoPut(i, at)
            case 0x68: stack.append(try memoGet(Int(try reader.uint(1, "BINGET index")), at))
            case 0x6a: stack.append(try memoGet(try reader.length(4, "LONG_BINGET index"), at))
            case 0x67:  // GET (text)
                guard let i = Int(try reader.line("GET")) else { throw malformed(at, "GET index is not a number") }
                stack.append(try memoGet(i, at))
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try reader.line("GLOBAL module"), name = try reader.line("GLOBAL name")
                stack.append(try global(module, name, at))
            case 0x93:  // STACK_GLOBAL
                let n = try pop(at), m = try pop(at)
                guard case let .string(module) = m, case let .string(name) = n else {
                    throw malformed(at, "STACK_GLOBAL needs two strings")
                }
                stack.append(try global(module, name, at))
            case 0x51:  // BINPERSID
                let pid = try pop(at)
                stack.append(try persistentLoad(&self, pid, at))
            case 0x50:  // PERSID (text)
                let pid = PickleValue.string(try reader.line("PERSID"))
                stack.append(try persistentLoad(&self, pid, at))
            case 0x52:  // REDUCE
                let args = try pop(at), callable = try pop(at)
                stack.append(try call(callable, tupleItems(args, at, "the arguments of REDUCE"), at))
            case 0x81:  // NEWOBJ
                let args = try pop(at), cls = try pop(at)
                let items = try tupleItems(args, at, "the arguments of NEWOBJ")
                switch cls {
                case .global(.namespace) where items.isEmpty: stack.append(add(.namespace(PickleDict())))
                case .global(.orderedDict) where items.isEmpty: stack.append(add(.dict(PickleDict())))
                default: throw malformed(at, "NEWOBJ of \(describe(cls)) with \(items.count) arguments")
                }
            case 0x62:  // BUILD
                let state = try pop(at)
                let target = try top(at)
                try build(target, state: state, at)
            default:
                throw CheckpointError.unsupportedOpcode(file: file, opcode: op, offset: at)
            }
        }
    }

    /// REDUCE of an allow-listed callable: the objects torch checkpoints rebuild, built here.
    mutating func call(_ callable: PickleValue, _ args: [PickleValue], _ at: Int) throws -> PickleValue {
        func malformed(_ reason: String) -> CheckpointError { .malformedPickle(file: file, offset: at, reason: reason) }
        guard case let .global(g) = callable else { throw malformed("REDUCE calls a \(callable.kindName), not an allowed global") }
        switch g {
        case .orderedDict:
            // Python 3 pickles OrderedDict() and sets the items; Python 2.7 passes them as one list
            // of [key, value] pairs (its __reduce__), which is how the original's checkpoints hold them.
            guard args.count <= 1 else { throw malformed("collections.OrderedDict called with \(args.count) arguments") }
            var d = PickleDict()
            if let items = args.first {
                guard case let .list(pairs)? = object(items) else { throw malformed("collections.OrderedDict called with a \(items.kindName), not a list of pairs") }
                for pair in pairs {
                    switch object(pair) {
                    case let .list(kv)? where kv.count == 2, let .tuple(kv)? where kv.count == 2: d[kv[0]] = kv[1]
                    default: throw malformed("collections.OrderedDict: an item is not a [key, value] pair")
                    }
                }
            }
            return add(.dict(d))
        case .rebuildTensor, .rebuildTensorV2:
            let wanted = g == .rebuildTensor ? 4...4 : 6...7
            guard wanted.contains(args.count) else {
                throw malformed("\(g.qualifiedName) called with \(args.count) arguments, expected \(wanted.lowerBound == wanted.upperBound ? "\(wanted.lowerBound)" : "\(wanted.lowerBound) or \(wanted.upperBound)")")
            }
            guard case let .storage(s)? = object(args[0]) else { throw malformed("\(g.qualifiedName): the first argument is not a storage") }
            guard case let .int(off) = args[1], let offset = Int(exactly: off), offset >= 0 else {
                throw malformed("\(g.qualifiedName): the storage offset is not a non-negative integer")
            }
            let shape = try intTuple(args[2], "size", at)
            let stride = try intTuple(args[3], "stride", at)
            guard shape.count == stride.count else {
                throw malformed("\(g.qualifiedName): size has \(shape.count) dimensions, stride \(stride.count)")
            }
            return add(.tensor(TorchTensorRef(storage: s, offset: offset, shape: shape, stride: stride)))
        case .rebuildParameter:
            guard args.count == 3, case .tensor? = object(args[0]) else { throw malformed("torch._utils._rebuild_parameter needs (tensor, requires_grad, hooks)") }
            return args[0]
        case .reconstructor:
            guard args.count == 3, case .global(.namespace) = args[0] else {
                throw malformed("copyreg._reconstructor is allowed only for argparse.Namespace")
            }
            return add(.namespace(PickleDict()))
        case .namespace:
            guard args.isEmpty else { throw malformed("argparse.Namespace called with positional arguments") }
            return add(.namespace(PickleDict()))
        case .object, .storageType:
            throw malformed("\(g.qualifiedName) cannot be called")
        }
    }

    /// BUILD: attributes of a Namespace; the `_metadata` attribute torch gives state dicts is ignored.
    mutating func build(_ target: PickleValue, state: PickleValue, _ at: Int) throws {
        guard case let .object(i) = target, arena.indices.contains(i) else {
            throw CheckpointError.malformedPickle(file: file, offset: at, reason: "BUILD on a \(target.kindName)")
        }
        guard case let .dict(attributes)? = object(state) else {
            throw CheckpointError.malformedPickle(file: file, offset: at, reason: "BUILD with a state that is not a dict")
        }
        switch arena[i] {
        case var .namespace(ns):
            for (k, v) in attributes.pairs { ns[k] = v }
            arena[i] = .namespace(ns)
        case .dict:
            break
        default:
            throw CheckpointError.malformedPickle(file: file, offset: at, reason: "BUILD on an object that takes no state")
        }
    }

    func intTuple(_ v: PickleValue, _ what: String, _ at: Int) throws -> [Int] {
        guard case let .tuple(items)? = object(v) else {
            throw CheckpointError.malformedPickle(file: file, offset: at, reason: "the tensor's \(what) is not a tuple")
        }
        return try items.map {
            guard case let .int(x) = $0, let n = Int(exactly: x), n >= 0 else {
                throw CheckpointError.malformedPickle(file: file, offset: at, reason: "the tensor's \(what) holds \($0.kindName) \($0), not a non-negative integer")
            }
            return n
        }
    }

    static func integer(littleEndian b: UnsafeRawBufferPointer) -> PickleValue {
        if b.isEmpty { return .int(0) }
        if b.count <= 8 {
            var v: UInt64 = 0
            for (k, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(k)) }
            if b.count < 8, b[b.count - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(b.count)) }  // sign-extend
            return .int(Int64(bitPattern: v))
        }
        return .bigInt(Array(b))
    }
}
