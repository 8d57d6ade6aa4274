"""Train a Conv1d model to recognise motifs planted at random positions in noise.

    python examples/train_sequences.py [--backend NAME]
"""

import argparse

import mytensor as mt
from mytensor.data import datasets
from mytensor.training import conv1d_net, evaluate, fit

parser = argparse.ArgumentParser()
parser.add_argument("--backend", default=None)
args = parser.parse_args()
if args.backend:
    mt.set_backend(args.backend)

train = datasets.MotifSequences(1000, seed=0)
test = datasets.MotifSequences(400, train=False, seed=0)
model = conv1d_net(classes=4)
fit(model, train, test, epochs=12, batch_size=32, lr=0.01)
print(f"sequences: test accuracy {evaluate(model, test):.1%}")
