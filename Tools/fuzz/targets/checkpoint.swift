// An original PyTorch checkpoint (SCANModel/Checkpoint: the restricted pickle machine, torch's legacy
// and zip layouts): `OriginalCheckpoint(bytes:file:)`, then the conversion to this project's model
// (tensor shapes, opt) and its config. Seeds: the reader's own test checkpoints (corpus/checkpoint).
import Foundation
import SCANModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    expectTypedError("checkpoint", { $0 is CheckpointError || $0 is ModelError }) {
        let checkpoint = try OriginalCheckpoint(bytes: bytes, file: "fuzz/model_best.pth.tar")
        let converted = try CheckpointConversion(checkpoint)
        _ = try converted.modelConfig(file: "fuzz/config.json")
    }
    return 0
}
