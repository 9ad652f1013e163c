import SCANModel

struct GRUGradients<T: TrainScalar> {
    var wih: UnsafeMutablePointer<T>
    var whh: UnsafeMutablePointer<T>
    var bih: UnsafeMutablePointer<T>
    var bhh: UnsafeMutablePointer<T>
}
