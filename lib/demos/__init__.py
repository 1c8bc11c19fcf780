"""The course's interactive demos, one module per chapter family, each demo a `lib.widgets.Demo`.

Math comes from the topic modules; these modules only draw. Every `draw(fig)` builds its artists
once and returns an `update(**params)` that mutates them, so the live face redraws in place and
the static face can render every frame from the same code.

- `vectors`    the dot product as a projection; a 2-D linear map (vectors, linear-layer)
- `layer`      the affine map with its bias; the finite-difference eps sweep (shapes-bias, backward)
- `memory`     the roofline of a linear layer (memory-flops)
- `depth`      training a small MLP and its linear regions (depth)
- `svd`        the SVD as rotate-stretch-rotate; low-rank images; deep stacks (svd, low-rank)
- `attention`  attention weights and the KV cache (attention, decoder-kv-cache)
- `lora`       LoRA rank against the loss it reaches (lora)
"""

#: The demos' palette (matplotlib's first colours): blue, orange, green and a neutral grey.
BLUE, ORANGE, GREEN, GREY = "#1f77b4", "#ff7f0e", "#2ca02c", "#9a9a9a"
