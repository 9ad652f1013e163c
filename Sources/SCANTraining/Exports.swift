// Training and evaluation code sees the model, the datasets and the core types.
@_exported import SCANData
@_exported import SCANModel
