"""CoAE (Zou et al., "Batch Label Inference and Replacement Attacks in Black-Boxed Vertical Federated
Learning"), as FATE 1.11's coae_param runs it: an autoencoder trained on the one-hot classes turns each
true label into a soft fake label; the guest trains on the fake labels (so gradients the hosts see
follow them) and decodes the top model's output back to class probabilities.
"""

from __future__ import annotations

import torch

from accord.components.nn import define


class CoAE(torch.nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        width = (6 * classes) ** 2  # FATE's default encoding width
        self.encoder = torch.nn.Sequential(
            torch.nn.Linear(classes, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, classes),
            torch.nn.Softmax(dim=1),
        )
        self.decoder = torch.nn.Sequential(
            torch.nn.Linear(classes, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, classes),
            torch.nn.Softmax(dim=1),
        )


def _cross_entropy(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return -torch.mean(torch.sum(target * torch.log(predicted + 1e-8), dim=1))


def train(classes: int, epochs: int, lr: float, lambda1: float, lambda2: float, seed: int) -> CoAE:
    """Reconstruct the labels while keeping the fake ones far from them (λ1) and uncertain (λ2)."""
    with define.SEEDING:
        torch.manual_seed(seed)
        model = CoAE(classes)
    labels = torch.eye(classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        fake = model.encoder(labels)
        recovered = model.decoder(fake)
        entropy = -torch.sum(fake * torch.log2(fake + 1e-8))
        loss = _cross_entropy(recovered, labels) - lambda1 * _cross_entropy(fake, labels) - lambda2 * entropy
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
    return model
