from __future__ import annotations

import email.message
import hashlib
import io
import os
import pickle
import shutil
import urllib.error
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import random_state

from stylize.errors import WeightsError
from stylize.network import weights
from stylize.network.layers import layer_names
from stylize.network.weights import load_weights, read_bundled_vgg19, read_torchvision_file


def test_bundled_vgg19_is_dequantized_into_our_layout() -> None:
    state = read_bundled_vgg19()
    assert state["0.weight"].shape == (64, 3, 3, 3)
    assert state["0.weight"].dtype == torch.float32
    assert state["34.weight"].shape == (512, 512, 3, 3)  # conv5_4
    assert len(state) == 32
    assert state["0.weight"].unique().numel() <= 256  # 8-bit table


def test_only_the_layers_a_run_uses_are_unpacked() -> None:
    whole, cut = read_bundled_vgg19(), read_bundled_vgg19(depth=layer_names("vgg19").index("relu5_1") + 1)
    assert sorted(cut) == sorted(k for k in whole if int(k.split(".")[0]) <= 28)  # up to conv5_1
    assert all(torch.equal(cut[k], whole[k]) for k in cut)
    packed = weights._torch_load(weights.bundled_vgg19_path())
    assert isinstance(packed, dict)  # the table looked up by the 8-bit codes, as a plain lookup does
    table, codes = packed["block1_conv1_W_table"], packed["block1_conv1_W_q"]
    assert torch.equal(whole["0.weight"], table.float()[codes.long()])


def test_a_corrupted_bundled_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "vgg19.bin"
    shutil.copy(weights.bundled_vgg19_path(), copy)
    with open(copy, "r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(WeightsError, match="corrupt"):
        read_bundled_vgg19(copy)


def test_a_missing_bundled_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="cannot read"):
        read_bundled_vgg19(tmp_path / "absent.bin")


def test_torchvision_file_keeps_feature_keys_only(tmp_path: Path) -> None:
    state: dict[str, Any] = random_state("vgg16", 3)
    state["classifier.0.weight"] = torch.zeros(4, 4)
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    loaded = read_torchvision_file(path)
    assert set(loaded) == {"0.weight", "0.bias", "2.weight", "2.bias"}


class Exploit:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("echo pwned",))


def test_a_pickle_with_code_is_not_executed(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"features.0.weight": Exploit()}))
    with pytest.raises(WeightsError, match="cannot read weights file"):
        read_torchvision_file(path)


@pytest.mark.parametrize("content", [b"", b"not a torch file at all", b"PK\x03\x04garbage"])
def test_garbage_weights_files_are_clear_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError):
        read_torchvision_file(path)


def test_state_dict_without_vgg_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    torch.save({"encoder.weight": torch.zeros(2)}, path)
    with pytest.raises(WeightsError, match="no VGG feature weights"):
        read_torchvision_file(path)


def test_vgg16_names_torchvisions_own_weights() -> None:
    from torchvision.models import VGG16_BN_Weights, VGG16_Weights

    assert weights.torchvision_url("vgg16") == VGG16_Weights.IMAGENET1K_V1.url
    assert weights.torchvision_url("vgg16-bn") == VGG16_BN_Weights.IMAGENET1K_V1.url


def test_vgg16_comes_from_torchs_cache_without_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fake cache: the file torchvision's API names, where torch.hub keeps it; nothing is fetched."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "urlopen", _no_network)
    cached = tmp_path / "hub" / "checkpoints" / weights.torchvision_url("vgg16").rsplit("/", 1)[-1]
    cached.parent.mkdir(parents=True)
    torch.save(random_state("vgg16", 3), cached)
    loaded = load_weights("vgg16")
    assert loaded.input_style == "torchvision" and loaded.source == str(cached)
    assert set(loaded.state) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def _no_network(*args: Any, **kwargs: Any) -> Any:
    raise urllib.error.URLError("no network")


def test_vgg16_without_network_or_cache_names_the_way_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "urlopen", _no_network)
    with pytest.raises(WeightsError) as caught:
        load_weights("vgg16")
    message = str(caught.value)
    assert "--weights" in message and "vgg19" in message and "\n" not in message
    assert not [p for p in (tmp_path / "hub").rglob("*") if p.is_file()], "no partial download may remain"


class FakeResponse(io.BytesIO):
    """What torch.hub reads a download from: the body, and its headers through info()."""

    def info(self) -> Any:
        return email.message.Message()

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def test_download_goes_to_torchs_cache_with_progress_and_checksum(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    buffer = io.BytesIO()
    torch.save(random_state("vgg16", 1), buffer)
    payload = buffer.getvalue()
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    monkeypatch.setattr(weights, "torchvision_url", lambda model: f"https://example.invalid/vgg16-{prefix}.pth")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "urlopen", lambda *a, **k: FakeResponse(payload))
    loaded = load_weights("vgg16", show_download=True)
    assert "B" in capsys.readouterr().err, "the download draws a progress bar on stderr when asked"
    assert (tmp_path / "hub" / "checkpoints" / f"vgg16-{prefix}.pth").is_file()
    assert loaded.input_style == "torchvision" and "0.weight" in loaded.state
    # a wrong checksum leaves nothing behind
    monkeypatch.setattr(weights, "torchvision_url", lambda model: "https://example.invalid/vgg16-deadbeef.pth")
    with pytest.raises(WeightsError, match="checksum"):
        load_weights("vgg16")
    left = sorted(p.name for p in (tmp_path / "hub" / "checkpoints").iterdir())
    assert left == [f"vgg16-{prefix}.pth"], left
