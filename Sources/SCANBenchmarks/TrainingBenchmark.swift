import Foundation
import SCANCore
import SCANTraining

/// Times training steps at the paper's sizes on random data (nothing is asserted): embed 1024,
/// word_dim 300, vocab 8480, 36 x 2048 sparse non-negative region features, bi-GRU, t2i LogSumExp,
/// clipped_l2norm, max_violation, batch 128. Captions are drawn from `captionPool` (token ids, e.g.
/// real tokenised captions) when given; otherwise synthetic: lengths with Flickr30K's mean (15.5
/// tokens including <start> and <end>, a long tail) and Zipf-distributed word ids (rank k with
/// probability ~ 1/k, as word frequencies in captions), so that the number of distinct words per
/// batch is realistic. Reports forward / backward / optimiser time, the
/// gemm FLOPs of a step and their rate, the epoch time extrapolated to 145,000 captions, and the
/// rate of plain sgemm on the same machine as a yardstick, with the OpenBLAS kernel that ran.
public enum TrainingBenchmark {
    public static func run(batchSize: Int = 128, steps: Int = 3, regions: Int = 36, seed: UInt64 = 1,
                           epochCaptions: Int = 145_000, captionPool: [[Int]]? = nil) -> String {
        var config = ModelConfig()
        config.embedSize = 1024; config.wordDim = 300; config.vocabSize = 8480; config.imgDim = 2048
        config.biGRU = true; config.crossAttn = .t2i; config.aggFunc = .logSumExp; config.rawFeatureNorm = .clippedL2norm
        config.maxViolation = true
        var rng = Xoshiro256StarStar(seed: seed)
        var params = ParameterInitializer.initialize(config: config, seed: seed)
        var adam = Adam(layout: params.layout)

        // Zipf(1) over the word ids 3..<vocab (3 is <unk>, frequent too).
        var zipfCDF: [Double] = []
        var acc = 0.0
        for k in 1...(config.vocabSize - 3) { acc += 1 / Double(k); zipfCDF.append(acc) }
        func zipfWord() -> Int {
            let u = rng.unitDouble() * acc
            var lo = 0, hi = zipfCDF.count - 1
            while lo < hi { let mid = (lo + hi) / 2; if zipfCDF[mid] < u { lo = mid + 1 } else { hi = mid } }
            return 3 + lo
        }

        func makeBatch() -> TrainingBatch {
            let n = batchSize, f = config.imgDim
            var feats = [Float](repeating: 0, count: n * regions * f)
            // Post-ReLU-like: about 40% zeros, the rest exponential with mean 0.5.
            for k in 0..<feats.count {
                let u = rng.unitDouble()
                feats[k] = u < 0.4 ? 0 : Float(-0.5 * log(max(1e-12, rng.unitDouble())))
            }
            var caps: [[Int]] = []
            for _ in 0..<n {
                if let pool = captionPool, !pool.isEmpty {
                    caps.append(pool[Int(rng.next() % UInt64(pool.count))])
                } else {
                    // words = 7 + exponential(6.5), rounded: mean ~13.5 words, a tail to ~45.
                    let words = 7 + Int((-6.5 * log(max(1e-12, rng.unitDouble()))).rounded())
                    caps.append([1] + (0..<words).map { _ in zipfWord() } + [2])
                }
            }
            caps.sort { $0.count > $1.count }
            return TrainingBatch(images: Tensor(shape: [n, regions, f], data: feats), captions: caps)
        }

        var lines: [String] = []
        lines.append("SCAN training step benchmark (batch \(batchSize), \(regions) x \(config.imgDim) features, embed \(config.embedSize), word_dim \(config.wordDim), vocab \(config.vocabSize), bi-GRU, t2i LogSumExp clipped_l2norm, max_violation)")
        lines.append("load average before: \(Yardstick.loadAverage())")
        lines.append("OpenBLAS kernel: \(BLAS.coreName), BLAS threads: \(BLAS.threadCount), worker threads: \(Parallel.cores), OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)")")

        // Warm-up step (page faults, thread pools), then the timed ones.
        var results: [(TrainStepResult, Double, Int)] = []
        var distinctTotal = 0
        var stepPhases: [[(label: String, seconds: Double)]] = []
        for s in 0...steps {
            let batch = makeBatch()
            PhaseProfiler.setEnabled(s > 0)
            let tokens = batch.captions.reduce(0) { $0 + $1.count }
            let distinct = Set(batch.captions.joined()).count
            let started = Yardstick.now()
            guard let r = try? TrainStep.run(parameters: &params, batch: batch, config: config, optimizer: &adam) else {
                return lines.joined(separator: "\n") + "\ntraining step failed"
            }
            let wall = Yardstick.now() - started
            if s > 0 {
                results.append((r, wall, tokens))
                distinctTotal += distinct
                stepPhases.append(PhaseProfiler.drain())
            }
            lines.append(String(format: "  step %d%@: loss %.4f, grad norm %.3f, tokens %d (mean length %.2f, max %d, %d distinct), active pairs %d, wall %.3f s",
                                s, s == 0 ? " (warm-up)" : "", r.loss, r.gradientNorm, tokens,
                                Double(tokens) / Double(batchSize), batch.captions.first!.count, distinct, r.activePairs, wall))
        }
        PhaseProfiler.setEnabled(false)
        let k = Double(results.count)
        func mean(_ f: ((TrainStepResult, Double, Int)) -> Double) -> Double { results.reduce(0) { $0 + f($1) } / k }
        func least(_ f: ((TrainStepResult, Double, Int)) -> Double) -> Double { results.map(f).min() ?? 0 }
        let fwd = mean { $0.0.timings.forward }, fwdMin = least { $0.0.timings.forward }
        let bwd = mean { $0.0.timings.backward }, bwdMin = least { $0.0.timings.backward }
        let opt = mean { $0.0.timings.optimizer }, optMin = least { $0.0.timings.optimizer }
        let wall = mean { $0.1 }, wallMin = least { $0.1 }
        // FLOPs of the timed batches, recomputed from their shapes.
        let meanTokens = mean { Double($0.2) }
        let meanActive = mean { Double($0.0.activePairs) }
        let fl = flopModel(config: config, n: batchSize, regions: regions, tokens: Int(meanTokens.rounded()),
                           distinctWords: Int((Double(distinctTotal) / k).rounded()), activePairs: Int(meanActive.rounded()))
        let total = fl.forward + fl.backward
        lines.append("")
        lines.append("| part | mean s / step | best s / step | gemm GFLOP | GFLOP/s (mean) | GFLOP/s (best) |")
        lines.append("|---|---|---|---|---|---|")
        lines.append(String(format: "| forward | %.3f | %.3f | %.1f | %.0f | %.0f |", fwd, fwdMin, fl.forward / 1e9, fl.forward / fwd / 1e9, fl.forward / fwdMin / 1e9))
        lines.append(String(format: "| backward | %.3f | %.3f | %.1f | %.0f | %.0f |", bwd, bwdMin, fl.backward / 1e9, fl.backward / bwd / 1e9, fl.backward / bwdMin / 1e9))
        lines.append(String(format: "| optimiser (norm, clip, Adam; %.1fM parameters) | %.3f | %.3f | - | - | - |", Double(params.data.count) / 1e6, opt, optMin))
        lines.append(String(format: "| step (wall) | %.3f | %.3f | %.1f | %.0f | %.0f |", wall, wallMin, total / 1e9, total / wall / 1e9, total / wallMin / 1e9))
        let stepsPerEpoch = Double(epochCaptions) / Double(batchSize)
        lines.append(String(format: "epoch of %d captions (%.0f steps): %.1f min at the mean step, %.1f min at the best (30 epochs: %.1f h / %.1f h; validation not included)",
                            epochCaptions, stepsPerEpoch, stepsPerEpoch * wall / 60, stepsPerEpoch * wallMin / 60,
                            30 * stepsPerEpoch * wall / 3600, 30 * stepsPerEpoch * wallMin / 3600))
        lines.append(String(format: "(a dense attention backward would add %.1f GFLOP per step; with max_violation only the %.0f active pairs of %d are back-propagated)",
                            fl.denseExtra / 1e9, meanActive, batchSize * batchSize))

        lines.append("")
        if !PhaseProfiler.isCompiledIn {
            lines.append("(phase breakdown: build with `swift build -c release -Xswiftc -DSCAN_PHASE_PROFILE` to see it)")
        }
        let best = results.indices.min { results[$0].1 < results[$1].1 } ?? 0
        lines.append("| phase ('total' lines include the lines under them) | mean s / step | s in the best step |")
        lines.append("|---|---|---|")
        for (idx, phase) in (stepPhases.first ?? []).enumerated() {
            let m = stepPhases.reduce(0) { $0 + ($1.first { $0.label == phase.label }?.seconds ?? 0) } / k
            let b = stepPhases[best].count > idx ? stepPhases[best].first { $0.label == phase.label }?.seconds ?? 0 : 0
            lines.append(String(format: "| %@ | %.3f | %.3f |", phase.label, m, b))
        }
        lines.append("")
        // Yardstick: plain sgemm in the same process.
        let big = Yardstick.sgemmRate(m: 4096, n: 4096, k: 4096)
        let scan = Yardstick.sgemmRate(m: batchSize * regions, n: Int(meanTokens.rounded()), k: config.embedSize)
        let gru = Yardstick.sgemmRate(m: batchSize, n: 3 * config.embedSize, k: config.embedSize)
        lines.append(String(format: "sgemm yardstick: 4096^3 %.0f GFLOP/s; SCAN P-shaped %dx%dx%d %.0f GFLOP/s; GRU-step-shaped %dx%dx%d %.0f GFLOP/s",
                            big, batchSize * regions, Int(meanTokens.rounded()), config.embedSize, scan,
                            batchSize, 3 * config.embedSize, config.embedSize, gru))
        lines.append("load average after: \(Yardstick.loadAverage())")
        return lines.joined(separator: "\n")
    }

    struct Flops { var forward: Double; var backward: Double; var denseExtra: Double }

    /// Multiply-adds x 2 of the step's matrix products (elementwise work not counted).
    static func flopModel(config c: ModelConfig, n: Int, regions r: Int, tokens t: Int, distinctWords u: Int, activePairs: Int) -> Flops {
        let d = Double(c.embedSize), f = Double(c.imgDim), e = Double(c.wordDim)
        let nr = Double(n * r), tw = Double(t), nn = Double(n), rr = Double(r), uw = Double(u)
        let dirs = c.biGRU ? 2.0 : 1.0
        let g = 3 * d
        var fwd = 2 * nr * f * d                                   // image fc
        fwd += dirs * (2 * uw * e * g + 2 * (tw - nn) * d * g)     // GRU input projections (distinct words) + recurrence
        fwd += 2 * nr * tw * d                                     // P = R W^T
        fwd += nn * (2 * rr * rr * d + 2 * rr * rr * tw)           // Gram matrices and G a (t2i)
        var bwd = 2 * nr * f * d                                   // dW of the image fc
        bwd += dirs * (2 * (tw - nn) * g * d + 2 * (tw - nn) * g * d + 2 * 2 * uw * g * e)  // dW_hh, dh, dW_ih, dx
        let dense = Double(activePairs) >= 0.25 * nn * nn
        let meanWords = tw / nn
        let pairFlops = 2 * 2 * rr * meanWords * d + 2 * rr * meanWords * rr
        if dense {
            bwd += 2 * 2 * nr * tw * d + nn * 2 * rr * rr * tw
        } else {
            bwd += Double(activePairs) * pairFlops
        }
        bwd += nn * 2 * rr * rr * d                                 // 2 dG R
        let denseExtra = dense ? 0 : (2 * 2 * nr * tw * d + nn * 2 * rr * rr * tw) - Double(activePairs) * pairFlops
        return Flops(forward: fwd, backward: bwd, denseExtra: denseExtra)
    }

}
