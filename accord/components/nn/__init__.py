"""Neural networks on PyTorch (the optional ``nn`` extra): HomoNN, HeteroNN and their shared parts."""
