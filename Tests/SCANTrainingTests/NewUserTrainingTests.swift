import Foundation
import SCANTraining
import TestSupport
import XCTest

/// Issue 15, the training side: what a new user trips over (a smoke run that saves nothing, a dev split
/// the data lacks, a vocabulary or a prefilter overwritten, a NaN named as a flat offset).
extension TrainerTests {

    /// The world as the original's layout: ROOT/tiny_precomp/{train,dev}_{ims.npy,caps.txt}.
    func precompRoot() throws -> String {
        let root = tmp + "/root"
        try FileManager.default.createDirectory(atPath: root + "/tiny_precomp", withIntermediateDirectories: true)
        for f in ["train_ims.npy", "train_caps.txt", "dev_ims.npy", "dev_caps.txt"] {
            try FileManager.default.copyItem(atPath: tmp + "/data/" + f, toPath: root + "/tiny_precomp/" + f)
        }
        return root
    }

    /// 48 train images x 5 captions / batch 16 = 15 batches per epoch; stopping after 5 validates and
    /// saves like an epoch end, and a resume from the run folder continues with the uninterrupted run's losses.
    func testMaxItersValidatesSavesAndResumesFromTheRunFolder() throws {
        var o = options(epochs: 1, run: "smoke")
        o.maxIterations = 5
        o.valStep = 3
        let smoke = try Trainer(options: o).run()
        XCTAssertTrue(smoke.stoppedAtMaxIterations)
        XCTAssertEqual(smoke.iterations, 5)
        XCTAssertEqual(smoke.epochsDone, 0)
        XCTAssertEqual(smoke.rsums.count, 1)
        XCTAssertGreaterThan(smoke.bestRsum, 0)
        XCTAssertEqual(smoke.bestRsum, smoke.rsums[0])
        XCTAssertEqual(smoke.checkpoints, [tmp + "/smoke/checkpoint/checkpoint_0"])
        XCTAssertNoThrow(try ModelDirectory(path: tmp + "/smoke/checkpoint/model_best").load())
        // The log has the val_step validation (iteration 3) and the one at the stop (iteration 5).
        let log = try String(contentsOfFile: tmp + "/smoke/log/train_log.jsonl", encoding: .utf8)
        let records = log.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(records.filter { $0["rsum"] != nil }.compactMap { $0["iteration"] as? Int }, [3, 5])

        // Resumed from the run folder (runs/NAME, holding checkpoint/latest.json): the remaining 10 batches
        // of epoch 0, with the losses of an uninterrupted epoch.
        let full = try Trainer(options: options(epochs: 1, run: "full")).run()
        XCTAssertEqual(full.losses.count, 15)
        let resumed = try Trainer(options: options(epochs: 1, run: "smoke", resume: tmp + "/smoke")).run()
        XCTAssertFalse(resumed.stoppedAtMaxIterations)
        XCTAssertEqual(resumed.losses.count, 10)
        for (a, b) in zip(resumed.losses, full.losses.suffix(10)) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
        XCTAssertEqual(resumed.iterations, 15)
        XCTAssertThrowsError(try Trainer(options: options(epochs: 1, run: "x", resume: tmp + "/nothing")).run()) { err in
            XCTAssertTrue("\(err)".contains("run folder with checkpoint/latest.json"), "\(err)")
        }
    }

    /// A stop exactly at an epoch's end does not save the same state twice.
    func testMaxItersAtAnEpochEndSavesOnce() throws {
        var o = options(epochs: 2, run: "edge")
        o.maxIterations = 15
        let s = try Trainer(options: o).run()
        XCTAssertEqual(s.iterations, 15)
        XCTAssertEqual(s.epochsDone, 1)
        XCTAssertEqual(s.checkpoints.count, 1)
        XCTAssertFalse(s.stoppedAtMaxIterations)
    }

    /// Without a dev split: the error says what to do; a train slice or no validation both train.
    func testOnlyATrainSplitValidatesOnATrainSliceOrNotAtAll() throws {
        try FileManager.default.removeItem(atPath: tmp + "/data/dev_ims.npy")
        try FileManager.default.removeItem(atPath: tmp + "/data/dev_caps.txt")
        XCTAssertThrowsError(try Trainer(options: options(epochs: 1, run: "d"))) { err in
            let s = "\(err)"
            XCTAssertTrue(s.contains("dev_") && s.contains("--val_train_images") && s.contains("--no_val"), s)
        }
        var slice = options(epochs: 1, run: "slice")
        slice.validation = .trainSlice(images: 8)
        let a = try Trainer(options: slice).run()
        // 40 images x 5 captions trained on: 13 batches of 16; 8 images validated.
        XCTAssertEqual(a.losses.count, 13)
        XCTAssertEqual(a.rsums.count, 1)
        XCTAssertTrue(a.validated)
        var none = options(epochs: 2, run: "none")
        none.validation = .none
        let b = try Trainer(options: none).run()
        XCTAssertFalse(b.validated)
        XCTAssertEqual(b.rsums, [])
        XCTAssertEqual(b.losses.count, 30)
        // model_best is the last checkpoint.
        let best = try String(contentsOfFile: tmp + "/none/checkpoint/model_best/trainer_state.json", encoding: .utf8)
        XCTAssertTrue(best.contains("\"epoch\":2") || best.contains("\"epoch\" : 2"), best)
        var tooMany = options(epochs: 1, run: "t")
        tooMany.validation = .trainSlice(images: 48)
        XCTAssertThrowsError(try Trainer(options: tooMany)) { XCTAssertTrue("\($0)".contains("--val_train_images must be 1...47"), "\($0)") }
    }

    /// A NaN in the dev features names the image, the region and the dimension.
    func testNaNFeaturesNameImageRegionAndDimension() throws {
        var dev = try NPY.read(tmp + "/data/dev_ims.npy")
        dev[3, 2, 7] = .nan
        try NPY.write(dev, to: tmp + "/data/dev_ims.npy")
        XCTAssertThrowsError(try Trainer(options: options(epochs: 1, run: "n"))) { err in
            XCTAssertEqual(err as? DatasetError, .nonFinite(file: tmp + "/data/dev_ims.npy", image: 3, region: 2, dimension: 7, value: "nan"))
            XCTAssertTrue("\(err)".contains("image 3 (row 3), region 2, dimension 7"), "\(err)")
        }
    }

    /// The scan-train binary: the summary of a --max_iters run reports the real best and the checkpoint,
    /// and --resume takes the run folder.
    func testScanTrainSmokeRunReportsWhatItSaved() throws {
        _ = try ToolRunner.path("scan-train")
        let root = try precompRoot()
        let common = ["--data_path", root, "--data_name", "tiny_precomp", "--vocab_path", tmp + "/data/vocab.json",
                      "--embed_size", "16", "--word_dim", "8", "--img_dim", "12", "--batch_size", "16", "--num_epochs", "1",
                      "--logger_name", tmp + "/runs/t/log", "--model_name", tmp + "/runs/t/checkpoint", "--bi_gru"]
        let r = try ToolRunner.run("scan-train", common + ["--max_iters", "5", "--val_step", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let best = try XCTUnwrap(r.stdout.range(of: #"best rsum [0-9.]+"#, options: .regularExpression).map { String(r.stdout[$0]) })
        XCTAssertNotEqual(best, "best rsum 0.0", r.stdout)
        XCTAssertTrue(r.stdout.contains("stopped at --max_iters 5") && r.stdout.contains("checkpoint_0"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/runs/t/checkpoint/model_best/model.safetensors"))
        let resumed = try ToolRunner.run("scan-train", common + ["--resume", tmp + "/runs/t"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("trained 1 epochs, 15 iterations"), resumed.stdout)
        let both = try ToolRunner.run("scan-train", common + ["--no_val", "--val_train_images", "4"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("exclude each other"), both.stderr)
    }

    /// scan-vocab keeps a different vocabulary unless --force, names the file and both sizes; --no_dev
    /// builds from train alone.
    func testScanVocabRefusesToReplaceADifferentVocabulary() throws {
        _ = try ToolRunner.path("scan-vocab")
        let root = try precompRoot()
        let out = tmp + "/vocab/tiny_precomp_vocab.json"
        let args = ["--data_path", root, "--data_name", "tiny_precomp", "--vocab_path", tmp + "/vocab", "--threshold", "1"]
        let first = try ToolRunner.run("scan-vocab", args)
        XCTAssertEqual(first.status, 0, first.stderr)
        let words = try Vocabulary(contentsOf: out).count
        // The same vocabulary again: nothing to refuse.
        let again = try ToolRunner.run("scan-vocab", args)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("unchanged"), again.stdout)
        // A different one (e.g. the converted checkpoint's) is kept.
        try Vocabulary(words: ["zebra", "giraffe"]).write(to: out)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let refused = try ToolRunner.run("scan-vocab", args)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains(out) && refused.stderr.contains("exists with 6 words")
                      && refused.stderr.contains("has \(words) words") && refused.stderr.contains("--force")
                      && refused.stderr.contains("--vocab_path DIR"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before)
        let forced = try ToolRunner.run("scan-vocab", args + ["--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try Vocabulary(contentsOf: out).count, words)
        // Only a train split.
        try FileManager.default.removeItem(atPath: root + "/tiny_precomp/dev_caps.txt")
        let noDev = try ToolRunner.run("scan-vocab", args + ["--vocab_path", tmp + "/vocab2"])
        XCTAssertNotEqual(noDev.status, 0)
        XCTAssertTrue(noDev.stderr.contains("dev_caps.txt") && noDev.stderr.contains("--no_dev"), noDev.stderr)
        let trainOnly = try ToolRunner.run("scan-vocab", args + ["--vocab_path", tmp + "/vocab2", "--no_dev"])
        XCTAssertEqual(trainOnly.status, 0, trainOnly.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/vocab2/tiny_precomp_vocab.json"))
    }

    /// scan-prefilter fit keeps an existing prefilter unless --force.
    func testScanPrefilterFitKeepsAnExistingPrefilter() throws {
        _ = try ToolRunner.path("scan-prefilter")
        _ = try Trainer(options: options(epochs: 1, run: "p")).run()
        let model = tmp + "/p/checkpoint/model_best"
        let pf = model + "/prefilter.safetensors"
        let args = ["fit", "--model", model, "--data_path", tmp + "/data", "--steps", "4", "--batch_size", "8", "--dim", "8"]
        let first = try ToolRunner.run("scan-prefilter", args)
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = try Data(contentsOf: URL(fileURLWithPath: pf))
        let refused = try ToolRunner.run("scan-prefilter", args + ["--seed", "2"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains(pf) && refused.stderr.contains("--force"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: pf)), before)
        let forced = try ToolRunner.run("scan-prefilter", args + ["--seed", "2", "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: pf)), before)
    }
}
