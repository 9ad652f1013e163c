// Training and evaluation code sees the model and core types.
@_exported import SCANModel
