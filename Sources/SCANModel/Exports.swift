// Everything that uses the model also uses the core types (Tensor, npy, safetensors).
@_exported import SCANCore
