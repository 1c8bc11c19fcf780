"""Helpers for the course *The linear algebra inside neural networks*.

One module per topic; the math modules are pure NumPy, plotting and widgets live apart:

- `shapes`     input validation with messages that name expected and actual shapes
- `linear`     the linear layer, forward and backward
- `vectors`    dot products, cosine similarity, projection
- `ledger`     shape ledgers, parameter and activation memory, FLOPs, arithmetic intensity
- `gradcheck`  finite-difference gradient checks and their report
- `measure`    timing matmuls: achieved GFLOP/s, peak and bandwidth estimates
- `nn`         activations, softmax, losses, norms, GELU, a small MLP and its training loop, linear regions
- `svd`        SVD geometry, rank-k approximation, conditioning, deep stacks
- `attention`  softmax, masks, single- and multi-head attention, forward and backward
- `sizing`     the whole-model ledger of a decoder-only transformer from its configuration
- `lora`       low-rank adapters on one layer and on a transformer: forward, backward, merge, training
- `transformer` one decoder-only transformer: forward (KV cache, adapters), backward, generation
- `train`      Adam and the training loop of the transformer, scoring on the digit tasks
- `data`       the small data sets: names as characters, the digit tasks
- `widgets`    demos defined once, shown live (ipywidgets) or as a kernel-free player
- `demos`      the figures of each chapter's demos, one module per chapter family
- `exercises`  checkers with hints and solutions, one module per chapter

Letters used in shapes throughout: B batch, T tokens, D_in / D_out features in and out,
d model width, d_k key width, h heads, r LoRA rank, V vocabulary.
"""
