// Search code (and the thin tools) see the index, model and core types.
@_exported import SCANIndex
@_exported import SCANModel
