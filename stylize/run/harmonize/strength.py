"""How strongly a painting is stylised: the harmonization's style weight, estimated from the painting.

The paper set a weight per painting with a classifier trained on WikiArt (never published): about
1.2 for flat Art Nouveau, 4-6 for Impressionism, about 10 for Cubism and Expressionism. Ours needs
no model beyond the network we have: the share of relu3_1 units a painting switches on, seen at
ANALYSIS px. Flat, outlined paintings leave most mid-level texture detectors off; dense, broken
strokes switch many on. It is mapped linearly to the paper's scale and kept within 1..10:
    strength = clip(OFFSET + SLOPE * active_share, 1, 10)
OFFSET and SLOPE are a least-squares fit to the classifier's weights for the paper's 12 examples
(benchmarks/harmonize.py --strength reports the rank correlation, 0.685, and the leave-one-out
one, 0.52; of 15 statistics tried there this was the best, so the first figure flatters it).
The harmonization's style weight is --style-weight x strength / REFERENCE (below); --harmonize-strength
replaces the estimate.
"""

from __future__ import annotations

import torch
from PIL import Image

from ...io.tensors import to_tensor
from ...network.extractor import FeatureExtractor
from ..stages import long_side_size

ANALYSIS = 256  # px, long side: the strength is a property of the painting, not of the run's size
LAYER = "relu3_1"
OFFSET, SLOPE = -57.19, 146.43  # fitted to ../shared/harmonize/stylization_levels.txt (see above)
LEAST, MOST = 1.0, 10.0  # the paper's range
# the harmonization's style weight is --style-weight x strength / REFERENCE: at the default --style-weight (5),
# 2.5 x strength. Tuned on the paper's examples 4 and 6 at 512 px (benchmarks/harmonize.py measures): 1 x strength
# (REFERENCE 5) left more of the paste than the paper's results (style gain 0.29, 0.36 against their 0.18, 0.25)
# with half their content error; 2.4 x gave 0.20, 0.34 at content errors still below theirs (0.40, 0.54 to 0.58, 0.60)
REFERENCE = 2.0


@torch.no_grad()
def active_share(painting: Image.Image, extractor: FeatureExtractor, device: torch.device) -> float:
    """The share of LAYER's units that the painting, at ANALYSIS px, switches on."""
    width, height = long_side_size(painting.size, ANALYSIS)
    small = painting.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    features = extractor(to_tensor(small).to(device), torch.float32)[LAYER]
    return float((features > 0).float().mean())


def estimated_strength(painting: Image.Image, extractor: FeatureExtractor, device: torch.device) -> float:
    """The painting's style strength on the paper's scale, 1 (flat) to 10 (Cubism, Expressionism)."""
    return strength_of(active_share(painting, extractor, device))


def strength_of(share: float) -> float:
    """A share of active LAYER units on the paper's scale."""
    return min(MOST, max(LEAST, OFFSET + SLOPE * share))


def harmonize_weight(strength: float, style_weight: float) -> float:
    """The style weight a harmonization runs with."""
    return style_weight * strength / REFERENCE
