import CSCANKernels

/// Float16 storage conversions (bit exact, round to nearest even), vectorised in C.
public enum Half {
    public static func toFloat(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        scan_f16_to_f32(src, dst, count)
    }

    public static func fromFloat(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        scan_f32_to_f16(src, dst, count)
    }

    public static func toFloat(_ bits: [UInt16]) -> [Float] {
        var out = [Float](repeating: 0, count: bits.count)
        bits.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { d in
            if let sb = s.baseAddress, let db = d.baseAddress { scan_f16_to_f32(sb, db, bits.count) }
        } }
        return out
    }

    public static func fromFloat(_ values: [Float]) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { d in
            if let sb = s.baseAddress, let db = d.baseAddress { scan_f32_to_f16(sb, db, values.count) }
        } }
        return out
    }
}
