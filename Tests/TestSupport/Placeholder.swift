import SCANModel
