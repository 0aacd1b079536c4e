"""MNIST classifier from the tutorial notes initaudit grew from.

Two initialisation bugs hide here: Xavier on a layer followed by ReLU, and He (ReLU gain) on the
logits layer. ``initaudit check examples/mnist_init.py`` reports both (IA103).
"""

import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class InitNet(nn.Module):
    def __init__(self):
        super(InitNet, self).__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 10)
        self.relu = nn.ReLU()

        nn.init.xavier_uniform_(self.fc1.weight)  # Xavier, but fc1 feeds a ReLU
        nn.init.zeros_(self.fc1.bias)
        nn.init.kaiming_uniform_(self.fc2.weight, nonlinearity='relu')  # He, but fc2 gives logits
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = self.relu(self.fc1(x))
        x = self.fc2(x)
        return x


def main(epochs: int = 5) -> None:
    transform = transforms.ToTensor()
    train_dataset = datasets.MNIST(root="./data", train=True, download=True, transform=transform)
    train_loader = DataLoader(train_dataset, batch_size=64, shuffle=True)
    model = InitNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.AdamW(model.parameters(), lr=0.001, weight_decay=0.01)
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss = 0.0
        for data, target in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(data), target)
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        print(f"Epoch {epoch}, Loss: {total_loss / len(train_loader):.4f}")


if __name__ == "__main__":
    main()
