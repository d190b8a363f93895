"""`harness data`: the manifest matches the measured files, and fetch / verify work against a local HTTP server
that serves upstream-format files (the real files of a few languages, laid out as raw.githubusercontent.com
lays out the pinned repositories), with resumable ranges, a killed download, a tampered file and a mirror."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from harness.app.cli import main
from harness.core.paths import shared_root
from harness.data.fetch import download, fetch, verify
from harness.data.manifest import MANIFEST, SOURCES, build, load

SHARED = shared_root() / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "eval").is_dir(), reason="../shared/data is not beside this checkout")


class Upstream(http.server.ThreadingHTTPServer):
    """Serves `root` by path, honours `Range: bytes=N-`, and can stall or alter chosen files."""

    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), Handler)
        self.root, self.ranges, self.tampered, self.slow = root, [], set(), set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802 (the http.server spelling)
        server: Upstream = self.server
        path = server.root / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        if self.path in server.tampered:
            data = data.replace(b"e", b"E", 1)
        start = int(re.match(r"bytes=(\d+)-", self.headers.get("Range", "bytes=0-")).group(1))
        server.ranges.append((self.path, start))
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        for offset in range(start, len(data), 4096):
            self.wfile.write(data[offset:offset + 4096])
            self.wfile.flush()
            if self.path in server.slow:
                time.sleep(0.05)


@pytest.fixture
def upstream(tmp_path):
    """The pinned repositories' files for German (and the English sides), plus both STS17 zips, served."""
    sets = load()
    root = tmp_path / "upstream"
    for name in ("tatoeba", "flores200-devtest", "stsb-multi-mt", "xquad-r"):
        source = SOURCES[name]
        for file in sets[name].for_langs(["de"]):
            target = root / source.repo / source.commit / file.upstream
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((SHARED / file.path).read_bytes())
    sts17 = SOURCES["sts17"]
    for upstream_zip in {f.upstream for f in sets["sts17"].files}:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for file in (f for f in sets["sts17"].files if f.upstream == upstream_zip):
                archive.writestr(file.member, (SHARED / file.path).read_bytes())
        target = root / sts17.repo / sts17.commit / upstream_zip
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(buffer.getvalue())
    server = Upstream(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@needs_shared
def test_the_manifest_holds_the_checksums_of_the_measured_files():
    assert load() and build(SHARED) == __import__("json").loads(MANIFEST.read_text(encoding="utf-8"))


@needs_shared
def test_verify_passes_on_the_shared_data_and_names_what_is_missing_or_changed(tmp_path, capsys):
    assert main(["data", "verify", str(SHARED)]) == 0
    assert "0 missing or changed" in capsys.readouterr().out
    copy = tmp_path / "root"
    for file in load()["sts17"].files:
        (copy / file.path).parent.mkdir(parents=True, exist_ok=True)
        (copy / file.path).write_bytes((SHARED / file.path).read_bytes())
    changed = copy / "eval/sts17/STS2017.gs/STS.gs.track5.en-en.txt"
    changed.write_text(changed.read_text() + "5.0\n")
    (copy / "eval/sts17/STS2017.eval.v1.1/README.txt").unlink()
    assert main(["data", "verify", str(copy), "--sets", "sts17"]) == 1
    out = capsys.readouterr().out
    assert f"changed: {changed}" in out and "missing: " in out and "README.txt" in out
    assert main(["data", "verify", str(copy)]) == 1  # every other set is missing here


@needs_shared
def test_fetch_from_a_mirror_gives_the_measured_files_and_a_rerun_fetches_nothing(upstream, tmp_path, capsys):
    root = tmp_path / "data"
    args = ["data", "fetch", "tatoeba", "flores", "stsb-multi-mt", "sts17", "xquad-r", "--langs", "de",
            "--to", str(root), "--mirror", upstream.url, "--no-progress"]
    assert main(args) == 0
    assert "file(s) fetched" in capsys.readouterr().out
    sets = list(load().values())
    checked, problems = verify(sets, root, ["de"])
    assert checked == 2 + 2 + 4 + 16 + 2 and not problems
    assert not list(root.rglob("*.part")) and not list(root.rglob("*.tmp"))
    assert main(args) == 0
    assert "0 file(s) fetched" in capsys.readouterr().out


@needs_shared
def test_a_tampered_file_is_an_error_naming_it_and_nothing_is_kept(upstream, tmp_path, capsys):
    source = SOURCES["xquad-r"]
    upstream.tampered.add(f"/{source.repo}/{source.commit}/xquad-r/de.json")
    root = tmp_path / "data"
    code = main(["data", "fetch", "xquad-r", "--langs", "de", "--to", str(root), "--mirror", upstream.url,
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "eval/xquad-r/de.json" in err and "not the manifest's" in err and "nothing was kept" in err
    assert err.count("\n") == 1  # one line, no traceback
    assert not (root / "eval/xquad-r/de.json").exists() and not (root / "eval/xquad-r/de.json.part").exists()


def test_offline_a_fetch_fails_in_one_line_naming_the_url_and_writes_nothing(tmp_path, capsys):
    with socket_closed() as port:
        code = main(["data", "fetch", "sts17", "--to", str(tmp_path / "data"), "--mirror", f"http://127.0.0.1:{port}",
                     "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"http://127.0.0.1:{port}/eduardofv/sts_eval/" in err
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").rglob("*"))


@pytest.mark.process
@needs_shared
def test_a_killed_fetch_leaves_no_half_file_and_a_rerun_resumes(upstream, tmp_path):
    source = SOURCES["xquad-r"]
    path = f"/{source.repo}/{source.commit}/xquad-r/de.json"
    upstream.slow.add(path)  # about 2 s for its 1.7 MB: time to kill it halfway
    root = tmp_path / "data"
    target = root / "eval/xquad-r/de.json"
    part = target.with_name("de.json.part")
    cmd = [sys.executable, "-m", "harness", "data", "fetch", "xquad-r", "--langs", "de", "--to", str(root),
           "--mirror", upstream.url, "--no-progress"]
    process = subprocess.Popen(cmd, cwd=Path(__file__).resolve().parent.parent)
    deadline = time.time() + 60
    while (not part.exists() or part.stat().st_size < 100_000) and time.time() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert part.exists() and not target.exists()  # a part to resume, never a half file under the real name
    kept = part.stat().st_size
    upstream.slow.clear()
    assert main(cmd[3:]) == 0
    assert (path, 0) in upstream.ranges and any(p == path and start >= kept for p, start in upstream.ranges[1:])
    assert hashlib.sha256(target.read_bytes()).hexdigest() == next(
        f.sha256 for f in load()["xquad-r"].files if f.path == "eval/xquad-r/de.json")
    assert not part.exists()


def test_a_server_that_ignores_the_range_restarts_the_part(tmp_path):
    """A resumed part is appended to only on 206; a plain 200 overwrites it (else the file would hold the
    start twice)."""
    payload = b"0123456789" * 1000

    class Whole(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Whole)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = tmp_path / "file.txt"
    target.with_name("file.txt.part").write_bytes(payload[:123])
    try:
        download(f"http://127.0.0.1:{server.server_address[1]}/f", target, hashlib.sha256(payload).hexdigest())
    finally:
        server.shutdown()
    assert target.read_bytes() == payload


def test_fetch_names_an_unknown_set_with_a_suggestion(tmp_path, capsys):
    assert main(["data", "fetch", "tatoba", "--to", str(tmp_path)]) == 2
    assert "unknown data set 'tatoba'" in capsys.readouterr().err
    assert main(["data", "fetch", "--to", str(tmp_path)]) == 2


def test_a_missing_set_says_which_fetch_gets_it(tmp_path, monkeypatch):
    from harness.app.plugins import TASKS
    from harness.core.errors import HarnessError

    (tmp_path / "eval").mkdir()
    with pytest.raises(HarnessError, match=r"no eval/tatoeba/ folder: `python -m harness data fetch tatoeba`"):
        TASKS.get("tatoeba")(tmp_path)


def test_the_data_root_falls_back_to_the_user_data_folder(monkeypatch, tmp_path):
    import harness.core.paths as paths

    monkeypatch.delenv("HARNESS_DATA", raising=False)
    monkeypatch.setattr(paths, "_SOURCE_ROOT", tmp_path / "not-a-checkout")
    assert paths.data_root() == paths.user_data_root()
    assert "distill-harness" in str(paths.user_data_root())


class socket_closed:
    """A local port nothing listens on: connecting to it fails at once, as offline."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def __exit__(self, *exc):
        return False


@needs_shared
def test_fetch_works_without_the_cli(upstream, tmp_path):
    report = fetch([load()["sts17"]], tmp_path, mirror=upstream.url, progress=False)
    assert len(report.fetched) == 16 and not report.present


def _serve(handler_body):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            handler_body(self)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/f"


def test_a_connection_that_closes_early_keeps_the_part_and_a_rerun_completes_it(tmp_path):
    from harness.core.errors import HarnessError

    payload = bytes(range(256)) * 400
    state = {"calls": 0}

    def body(handler):
        state["calls"] += 1
        start = int(re.match(r"bytes=(\d+)-", handler.headers.get("Range", "bytes=0-")).group(1))
        handler.send_response(206 if start else 200)
        handler.send_header("Content-Length", str(len(payload) - start))
        handler.end_headers()
        end = len(payload) // 3 if state["calls"] == 1 else len(payload)  # the first answer stops a third in
        handler.wfile.write(payload[start:end])
        handler.close_connection = True

    server, url = _serve(body)
    target = tmp_path / "file.bin"
    digest = hashlib.sha256(payload).hexdigest()
    try:
        with pytest.raises(HarnessError, match=r"closed after|IncompleteRead|kept: a rerun resumes it"):
            download(url, target, digest, len(payload))
        part = target.with_name("file.bin.part")
        assert part.exists() and 0 < part.stat().st_size < len(payload) and not target.exists()
        download(url, target, digest, len(payload))
    finally:
        server.shutdown()
    assert target.read_bytes() == payload and not part.exists()


def test_a_part_that_is_already_whole_is_checked_and_put_in_place(tmp_path):
    """416 (range not satisfiable): the part holds the whole file already; it is verified, not fetched again."""
    payload = b"all of it\n" * 50

    def body(handler):
        handler.send_response(416)
        handler.end_headers()

    server, url = _serve(body)
    target = tmp_path / "file.txt"
    target.with_name("file.txt.part").write_bytes(payload)
    try:
        download(url, target, hashlib.sha256(payload).hexdigest(), len(payload))
    finally:
        server.shutdown()
    assert target.read_bytes() == payload


def test_asking_for_english_adds_no_language_pair_and_a_bad_mirror_is_one_line(tmp_path, capsys):
    tatoeba = load()["tatoeba"]
    assert len(tatoeba.for_langs(["de", "en"])) == len(tatoeba.for_langs(["de"])) == 2
    assert main(["data", "fetch", "sts17", "--to", str(tmp_path), "--mirror", "mirror.example/raw",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a --mirror is a URL" in err
