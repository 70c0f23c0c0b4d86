"""The leaf every layer may use: errors, the name registry, atomic file writes,
markdown and plotting helpers, and what the machine's numerics depend on.

Nothing here imports another dlzoo package.
"""
