"""Exports in the model cache are made once, atomically, and made again when damaged."""
from pathlib import Path

import pytest

from qa.model.cache import cached, digest, intact


def writer(calls: list):
    """A `make` that writes a known content and counts its calls."""
    def make(path: Path) -> None:
        calls.append(path)
        path.write_bytes(b"model bytes")
    return make


def test_made_once_with_its_digest_beside_it(tmp_path):
    calls = []
    target = cached(tmp_path / "m" / "model.onnx", writer(calls), "making")
    assert cached(target, writer(calls), "making") == target and len(calls) == 1
    assert (tmp_path / "m" / "model.onnx.sha256").read_text().strip() == digest(target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.onnx", "model.onnx.sha256"]


@pytest.mark.parametrize("damage", [b"model by", b"model bXtes", b""])
def test_a_damaged_file_is_made_again_and_says_why(tmp_path, capsys, damage):
    calls = []
    target = cached(tmp_path / "model.onnx", writer(calls), "making")
    target.write_bytes(damage)
    capsys.readouterr()
    assert cached(target, writer(calls), "making") == target and len(calls) == 2
    assert target.read_bytes() == b"model bytes"
    assert "model.onnx is damaged or has no checksum" in capsys.readouterr().err


def test_a_file_without_its_digest_is_made_again(tmp_path):
    calls = []
    (tmp_path / "model.onnx").write_bytes(b"an older cache")
    assert cached(tmp_path / "model.onnx", writer(calls), "making").read_bytes() == b"model bytes"
    assert len(calls) == 1


def test_a_failed_make_leaves_the_previous_file_and_no_work_folder(tmp_path):
    target = cached(tmp_path / "model.onnx", writer([]), "making")

    def fails(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("killed")

    target.write_bytes(b"damaged")
    with pytest.raises(RuntimeError, match="killed"):
        cached(target, fails, "making")
    assert target.read_bytes() == b"damaged" and not list(tmp_path.glob(".export-*"))


def test_intact_only_when_the_file_matches_its_digest(tmp_path):
    target = tmp_path / "model.onnx"
    assert not intact(target)
    cached(target, writer([]), "making")
    assert intact(target)
    target.write_bytes(b"model bytez")
    assert not intact(target)
