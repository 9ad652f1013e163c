/// What a training run validates on after every epoch (and every `val_step` iterations).
public enum ValidationChoice: Sendable, Equatable {
    /// The dev split (`dev_ims.npy`, `dev_caps.txt`), as the original does.
    case dev
    /// The last `images` images of the train split (5 captions each), held out of training: for a
    /// dataset that has only a train split.
    case trainSlice(images: Int)
    /// No validation: `model_best` is the last checkpoint.
    case none
}
