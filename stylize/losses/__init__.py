"""Loss terms as pure functions of features: content, the style statistics (gram, diagonal, sliced,
wasserstein) and their targets, guidance by masks, the temporal term of video.

Tensors in, tensors out: no network, no files, no printing. May import: `config`, `errors`.
"""
