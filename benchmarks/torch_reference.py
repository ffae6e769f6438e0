#!/usr/bin/env python3
"""PyTorch reference timings for one MEow update and one action, on one CPU thread.

    /work/venv-torch/bin/python benchmarks/torch_reference.py [--clock wall|thread] [--repeats 7] [--updates 20]

The same architecture, shapes and update as `Sources/MEow` (docs/algorithm.md): a state-conditioned
normalizing flow whose only non-volume-preserving layer is log σ(s) from h_σ [ds, 64, 64, d], four
additive couplings t_k [d + ds, 64, 64, d] with LayerNorm, learnable-β Swish and dropout 0.1, and two
reward-shift heads b_j [ds, 256, 256, 1]. One update is: target y = r + γ(1 − term)·min_j V̄_j(s') on
the target parameters without gradient, the loss ½ Σ_j MSE(Q_j(s, a), y) in train mode, backward, global
gradient-norm clipping at 30, Adam (lr 1e-3) and the Polyak step. An action is the generation direction
in eval mode (stochastic: z0 = σ(s) ⊙ ε). `meow-bench meow --torch-reference PYTHON` runs this script in
the same benchmark run and prints the ratios; its own requirements are in requirements-torch.txt.

Prints one JSON object: {"torch": version, "threads": 1, "cases": [{"name", "update_us",
"action_us"}]}, each figure the median over repeats of the mean time per call.
"""

import argparse
import json
import math
import time

import torch
from torch import nn

# (name, ds, d, alpha, tau, log_sigma_max): the presets of MEowConfig.
CASES = [("Hopper", 11, 3, 0.25, 0.005, -0.3), ("HalfCheetah", 17, 6, 0.25, 0.003, 2.0),
         ("Humanoid", 376, 17, 0.125, 0.0005, -0.3)]
LOG_SIGMA_MIN, GAMMA, LR, GRAD_CLIP, DROPOUT = -5.0, 0.99, 1e-3, 30.0, 0.1
TANH_EPSILON = float(torch.finfo(torch.float32).eps)
ACTION_CLAMP = 1 - 1e-5


class Swish(nn.Module):
    """x · sigmoid(β x) with one learnable β per unit, initialised to 1."""

    def __init__(self, n):
        super().__init__()
        self.beta = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


def mlp(sizes, layer_norm=False, dropout=0.0, zero=False):
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        layers.append(nn.Linear(fan_in, fan_out))
        if layer_norm:
            layers.append(nn.LayerNorm(fan_out))
        layers.append(Swish(fan_out))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    net = nn.Sequential(*layers)
    for layer in net:
        if isinstance(layer, nn.Linear):
            if zero:
                nn.init.zeros_(layer.weight)
            else:
                nn.init.orthogonal_(layer.weight)
    return net


class Flow(nn.Module):
    def __init__(self, ds, d, alpha, log_sigma_max):
        super().__init__()
        self.d, self.alpha, self.log_sigma_max = d, alpha, log_sigma_max
        self.log_sigma_net = mlp([ds, 64, 64, d], zero=True)
        self.couplings = nn.ModuleList(
            [mlp([d + ds, 64, 64, d], layer_norm=True, dropout=DROPOUT) for _ in range(4)])
        self.reward_shifts = nn.ModuleList([mlp([ds, 256, 256, 1], zero=True) for _ in range(2)])
        m = torch.tensor([1.0 if i % 2 == 0 else 0.0 for i in range(d)])
        self.register_buffer("conditioning", torch.stack([m if k % 2 == 0 else 1 - m for k in range(4)]))
        self.register_buffer("shifted", 1 - self.conditioning)

    def log_sigma(self, s):
        half = (self.log_sigma_max - LOG_SIGMA_MIN) / 2
        return torch.tanh(self.log_sigma_net(s)) * half + (LOG_SIGMA_MIN + half)

    def coupling_shift(self, k, z, s):
        return self.couplings[k](torch.cat([z * self.conditioning[k], s], dim=1)) * self.shifted[k]

    def soft_values(self, s):
        bracket = self.log_sigma(s).sum(1, keepdim=True) + 0.5 * self.d * math.log(2 * math.pi)
        return [self.alpha * (bracket + head(s)) for head in self.reward_shifts]

    def soft_q(self, s, a):
        clamped = a.clamp(-ACTION_CLAMP, ACTION_CLAMP)
        tanh_term = -torch.log(1 - clamped * clamped + TANH_EPSILON).sum(1, keepdim=True)
        u = torch.atanh(clamped)
        for k in reversed(range(4)):
            u = u - self.coupling_shift(k, u, s)
        standardised = u * torch.exp(-self.log_sigma(s))
        kernel = -0.5 * (standardised * standardised).sum(1, keepdim=True) + tanh_term
        return [self.alpha * (kernel + head(s)) for head in self.reward_shifts]

    def act(self, s, noise):
        z = torch.exp(self.log_sigma(s)) * noise
        for k in range(4):
            z = z + self.coupling_shift(k, z, s)
        return torch.tanh(z).clamp(-1, 1)


class Agent:
    def __init__(self, ds, d, alpha, tau, log_sigma_max):
        self.online = Flow(ds, d, alpha, log_sigma_max)
        self.target = Flow(ds, d, alpha, log_sigma_max)
        self.target.load_state_dict(self.online.state_dict())
        self.target.eval()
        self.tau = tau
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=LR)
        self.online_params = list(self.online.parameters())
        self.target_params = list(self.target.parameters())

    def update(self, s, a, r, term, s_next):
        with torch.no_grad():
            v_next = torch.min(*self.target.soft_values(s_next))
            y = r + GAMMA * (1 - term) * v_next
        self.online.train()
        q = self.online.soft_q(s, a)
        loss = 0.5 * sum(nn.functional.mse_loss(qj, y) for qj in q)
        self.optimizer.zero_grad(set_to_none=False)
        loss.backward()
        nn.utils.clip_grad_norm_(self.online_params, GRAD_CLIP)
        self.optimizer.step()
        with torch.no_grad():
            torch._foreach_lerp_(self.target_params, self.online_params, self.tau)
        return loss

    @torch.no_grad()
    def act(self, s):
        self.online.eval()
        return self.online.act(s, torch.randn(s.shape[0], self.online.d))


def median_us(clock, repeats, calls, body):
    samples = []
    for _ in range(repeats):
        start = clock()
        for _ in range(calls):
            body()
        samples.append((clock() - start) / calls * 1e6)
    return sorted(samples)[len(samples) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--actions", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--clock", choices=["wall", "thread"], default="wall",
                        help="wall time, or this thread's CPU time (steadier on a loaded machine)")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    torch.set_num_threads(1)
    torch.manual_seed(1)
    results = []
    for name, ds, d, alpha, tau, log_sigma_max in CASES:
        agent = Agent(ds, d, alpha, tau, log_sigma_max)
        b = args.batch_size
        s, s_next = torch.rand(b, ds) * 4 - 2, torch.rand(b, ds) * 4 - 2
        a, r = torch.rand(b, d) * 2 - 1, torch.rand(b, 1) * 2 - 1
        term = (torch.arange(b) % 50 == 0).float().unsqueeze(1)
        for _ in range(3):
            agent.update(s, a, r, term, s_next)
        update_us = median_us(clock, args.repeats, args.updates, lambda: agent.update(s, a, r, term, s_next))
        obs = s[:1].clone()
        for _ in range(10):
            agent.act(obs)
        action_us = median_us(clock, args.repeats, args.actions, lambda: agent.act(obs))
        results.append({"name": name, "update_us": update_us, "action_us": action_us})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "cases": results}))


if __name__ == "__main__":
    main()
