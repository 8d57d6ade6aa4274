"""Train an MLP on one of the minitorch course's 2-D point sets.

    python examples/train_points.py [spiral|xor|circle|split|diag|simple] [--backend NAME]
"""

import argparse

import mytensor as mt
from mytensor import nn
from mytensor.data import datasets
from mytensor.training import Rescale, evaluate, fit, mlp

parser = argparse.ArgumentParser()
parser.add_argument("dataset", nargs="?", default="spiral", choices=sorted(datasets.POINT_SETS))
parser.add_argument("--backend", default=None)
args = parser.parse_args()
if args.backend:
    mt.set_backend(args.backend)

train, test = datasets.points(args.dataset, 400, seed=0), datasets.points(args.dataset, 200, seed=1)
model = nn.Sequential(Rescale(0.5, 4.0), mlp(in_features=2, hidden=64, classes=2))
fit(model, train, test, epochs=100, batch_size=32, lr=0.02)
print(f"{args.dataset}: test accuracy {evaluate(model, test):.1%}")
