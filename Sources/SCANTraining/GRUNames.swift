import SCANModel

/// Names of one GRU direction's tensors (suffix "" or "_reverse").
struct GRUNames {
    let wih, whh, bih, bhh: String
    init(suffix: String) {
        wih = "txt_enc.rnn.weight_ih_l0" + suffix; whh = "txt_enc.rnn.weight_hh_l0" + suffix
        bih = "txt_enc.rnn.bias_ih_l0" + suffix; bhh = "txt_enc.rnn.bias_hh_l0" + suffix
    }
    func weights<T>(_ p: ParameterPointers<T>) -> GRUWeights<T> {
        GRUWeights(wih: p(wih), whh: p(whh), bih: p(bih), bhh: p(bhh))
    }
    func gradients<T>(_ d: GradientPointers<T>) -> GRUGradients<T> {
        GRUGradients(wih: d(wih), whh: d(whh), bih: d(bih), bhh: d(bhh))
    }
}
