"""Helpers for the course *The linear algebra inside neural networks*.

One module per topic; the math modules are pure NumPy, plotting and widgets live apart:

- `shapes`     input validation with messages that name expected and actual shapes
- `linear`     the linear layer, forward and backward
- `ledger`     shape ledgers, parameter and activation memory, FLOPs
- `widgets`    demos defined once, shown live (ipywidgets) or as a kernel-free player
- `plots`      the figures the demos draw
- `exercises`  checkers with hints and solutions, one module per chapter

Letters used in shapes throughout: B batch, T tokens, D_in / D_out features in and out,
d model width, d_k key width, h heads, r LoRA rank, V vocabulary.
"""
