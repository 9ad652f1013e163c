#!/usr/bin/env python3
"""Yardstick for `scan-bench train`: one SCAN training step at the paper's sizes in PyTorch, computed the
way the original code computes it (DESIGN §3): nn.GRU over packed sequences, and the t2i cross attention
as a loop over captions with batched products that materialise every weighted context, max_violation
loss, clip_grad_norm_ and Adam. Written from the semantics in DESIGN.md, not copied from the original.

Prints seconds per step (forward, backward + optimiser) and PyTorch's own sgemm rate on this machine.
Needs torch (pip install torch). Nothing here is asserted; it only prints.

  python3 Tools/torch_training_step.py [--steps 3] [--threads 2]
"""
import argparse
import os
import random
import time

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def l2norm(x, dim=-1, eps=1e-8):
    return x / (x.pow(2).sum(dim=dim, keepdim=True).sqrt() + eps)


class ImageEncoder(nn.Module):
    def __init__(self, img_dim, embed):
        super().__init__()
        self.fc = nn.Linear(img_dim, embed)
        r = (6.0 ** 0.5) / ((img_dim + embed) ** 0.5)
        nn.init.uniform_(self.fc.weight, -r, r)
        nn.init.zeros_(self.fc.bias)

    def forward(self, feats):
        return l2norm(self.fc(feats))


class TextEncoder(nn.Module):
    def __init__(self, vocab, word_dim, embed):
        super().__init__()
        self.embed = nn.Embedding(vocab, word_dim)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        self.rnn = nn.GRU(word_dim, embed, 1, batch_first=True, bidirectional=True)
        self.embed_size = embed

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(self.embed(ids), lengths, batch_first=True)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True)
        h = self.embed_size
        out = (out[:, :, :h] + out[:, :, h:]) / 2
        return l2norm(out)


def t2i_scores(images, captions, lengths, lambda_softmax=9.0, lambda_lse=6.0):
    """Scores (n_images x n_captions): for each caption, its words attend over every image's regions."""
    n_image = images.size(0)
    columns = []
    for i, n_word in enumerate(lengths):
        cap = captions[i, :n_word, :].unsqueeze(0).repeat(n_image, 1, 1)        # (n_image, n_word, d)
        attn = torch.bmm(images, cap.transpose(1, 2))                          # (n_image, regions, n_word)
        attn = l2norm(nn.functional.leaky_relu(attn, 0.1), dim=2)              # clipped_l2norm along words
        attn = torch.softmax(attn.transpose(1, 2) * lambda_softmax, dim=2)     # over regions
        weighted = torch.bmm(attn, images)                                     # (n_image, n_word, d)
        sims = nn.functional.cosine_similarity(cap, weighted, dim=2, eps=1e-8)  # (n_image, n_word)
        columns.append(torch.log(torch.exp(sims * lambda_lse).sum(dim=1)) / lambda_lse)
    return torch.stack(columns, dim=1)


def max_violation_loss(scores, margin=0.2):
    d = scores.diag().view(-1, 1)
    cost_s = (margin + scores - d.expand_as(scores)).clamp(min=0)
    cost_im = (margin + scores - d.t().expand_as(scores)).clamp(min=0)
    mask = torch.eye(scores.size(0), dtype=torch.bool)
    cost_s = cost_s.masked_fill(mask, 0)
    cost_im = cost_im.masked_fill(mask, 0)
    return cost_s.max(1)[0].sum() + cost_im.max(0)[0].sum()


def flickr_lengths():
    here = os.path.dirname(os.path.abspath(__file__))
    ref = os.environ.get("SCAN_REFERENCE_DIR", os.path.join(here, "..", "..", "shared", "fixtures", "reference"))
    try:
        with open(os.path.join(ref, "test_caps.txt")) as f:
            return [len(line.split()) + 2 for line in f if line.strip()]
    except OSError:
        return [9 + (k * 7919) % 14 for k in range(5000)]


def sgemm_rate(n=4096):
    a, b = torch.rand(n, n), torch.rand(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch_size", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rng = random.Random(1)
    n, regions, img_dim, embed, word_dim, vocab = args.batch_size, 36, 2048, 1024, 300, 8480
    img_enc, txt_enc = ImageEncoder(img_dim, embed), TextEncoder(vocab, word_dim, embed)
    params = list(img_enc.parameters()) + list(txt_enc.parameters())
    opt = torch.optim.Adam(params, lr=2e-4)
    pool = flickr_lengths()
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; sgemm 4096^3: {sgemm_rate():.1f} GFLOP/s")
    print(f"batch {n}, {regions} x {img_dim} features, embed {embed}, word_dim {word_dim}, vocab {vocab}, "
          "bi-GRU, t2i LogSumExp clipped_l2norm, max_violation")
    fwd_times, bwd_times, walls = [], [], []
    for step in range(args.steps + 1):
        lengths = sorted((rng.choice(pool) for _ in range(n)), reverse=True)
        ids = torch.zeros(n, lengths[0], dtype=torch.long)
        for i, length in enumerate(lengths):
            ids[i, :length] = torch.randint(3, vocab, (length,))
        feats = torch.relu(torch.randn(n, regions, img_dim))
        t0 = time.perf_counter()
        opt.zero_grad()
        img = img_enc(feats)
        cap = txt_enc(ids, lengths)
        loss = max_violation_loss(t2i_scores(img, cap, lengths))
        t1 = time.perf_counter()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 2.0)
        opt.step()
        t2 = time.perf_counter()
        label = " (warm-up)" if step == 0 else ""
        print(f"  step {step}{label}: loss {loss.item():.4f}, tokens {sum(lengths)}, "
              f"forward {t1 - t0:.3f} s, backward + optimiser {t2 - t1:.3f} s, wall {t2 - t0:.3f} s")
        if step > 0:
            fwd_times.append(t1 - t0); bwd_times.append(t2 - t1); walls.append(t2 - t0)
    med = lambda xs: sorted(xs)[len(xs) // 2]
    print(f"median of {len(walls)} steps: forward {med(fwd_times):.3f} s, backward + optimiser {med(bwd_times):.3f} s, "
          f"step {med(walls):.3f} s (best {min(walls):.3f} s)")


if __name__ == "__main__":
    main()
