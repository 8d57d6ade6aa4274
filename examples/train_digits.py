"""Train a LeNet-style CNN on scikit-learn's 8x8 digits (needs `pip install -e ".[examples]"`).

    python examples/train_digits.py [--backend NAME] [--epochs N]
"""

import argparse

import mytensor as mt
from mytensor.data import datasets
from mytensor.training import evaluate, fit, lenet

parser = argparse.ArgumentParser()
parser.add_argument("--backend", default=None)
parser.add_argument("--epochs", type=int, default=15)
args = parser.parse_args()
if args.backend:
    mt.set_backend(args.backend)

train, test = datasets.Digits(train=True), datasets.Digits(train=False)
model = lenet(image_size=8, classes=10)
print(model)
fit(model, train, test, epochs=args.epochs, batch_size=32, lr=0.003)
print(f"digits: test accuracy {evaluate(model, test):.1%}")
mt.save(model.state_dict(), "lenet-digits.safetensors")
