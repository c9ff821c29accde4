"""PyTorch baseline for the training examples' time per step on the same
GPU: the digits MLP (64-128-10) and CNN (two 3x3 convolutions, 2x2 max
pool, 512-64-10) at batch 32 with Adam, and the character transformer
(3 pre-norm blocks of 128 dims, 4 heads, GELU, context 64, batch 32, causal
mask) with AdamW and gradient clipping: the same shapes and steps as
examples/digits_mlp.rs, digits_cnn.rs and char_transformer.rs, on random
data of the same shapes (a step's cost does not depend on the values); on a
GPU, the transformer also under autocast to float16 with a gradient scaler.
Eager mode, one device sync at the end of each timed run, the median of
five. Prints `name<TAB>milliseconds per step` lines.

    python3 benches/torch_training.py
"""
import statistics
import time

import torch
from torch import nn

dev = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)


def per_step(step, reps=100):
    for _ in range(10):
        step()
    trials = []
    for _ in range(5):
        if dev == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(reps):
            step()
        if dev == "cuda":
            torch.cuda.synchronize()
        trials.append((time.perf_counter() - start) / reps)
    return 1e3 * statistics.median(trials)


def classifier_step(model, x, y, opt):
    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


class CharModel(nn.Module):
    def __init__(self, vocab=94, dims=128, heads=4, layers=3, context=64):
        super().__init__()
        self.embed = nn.Embedding(vocab, dims)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(dims, heads, 4 * dims, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True)
            for _ in range(layers))
        self.norm = nn.LayerNorm(dims)
        self.head = nn.Linear(dims, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context))
        self.register_buffer("positions", torch.randn(context, dims))

    def forward(self, tokens):
        h = self.embed(tokens) + self.positions[: tokens.shape[1]]
        for block in self.blocks:
            h = block(h, src_mask=self.mask, is_causal=True)
        return self.head(self.norm(h))


def main():
    batch = 32
    images = torch.rand(batch, 1, 8, 8, device=dev)
    labels = torch.randint(0, 10, (batch,), device=dev)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(dev)
    print(f"digits_mlp\t{per_step(classifier_step(mlp, images, labels, torch.optim.Adam(mlp.parameters(), 1e-3))):.3f}")
    cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10)).to(dev)
    print(f"digits_cnn\t{per_step(classifier_step(cnn, images, labels, torch.optim.Adam(cnn.parameters(), 1e-3))):.3f}")
    model = CharModel().to(dev)
    opt = torch.optim.AdamW(model.parameters(), 2e-3, weight_decay=0.01)
    tokens = torch.randint(0, 94, (batch, 65), device=dev)

    def step():
        logits = model(tokens[:, :-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, 94), tokens[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    print(f"char_transformer\t{per_step(step, reps=30):.3f}")
    if dev != "cuda":
        return
    # Mixed precision as PyTorch users train: autocast to float16 and a
    # gradient scaler, float32 weights and optimizer state.
    scaler = torch.amp.GradScaler("cuda")

    def mixed_step():
        with torch.autocast("cuda", dtype=torch.float16):
            logits = model(tokens[:, :-1])
            loss = nn.functional.cross_entropy(logits.reshape(-1, 94), tokens[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
    print(f"char_transformer_autocast\t{per_step(mixed_step, reps=30):.3f}")


if __name__ == "__main__":
    main()
