// Search code (and the thin tools) see the index, model, data and core types.
@_exported import SCANData
@_exported import SCANIndex
@_exported import SCANModel
