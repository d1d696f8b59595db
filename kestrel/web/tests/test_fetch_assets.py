"""scripts/fetch_assets.py against a registry on 127.0.0.1: integrity, extraction, idempotence."""

import base64
import hashlib
import importlib.util
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "fetch_assets.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_assets_under_test", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tarball(files: dict[str, bytes], top: str = "package") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class Registry:
    """A tiny npm registry: serves tarballs by path and counts requests."""

    def __init__(self) -> None:
        self.tarballs: dict[str, bytes] = {}
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.requests.append(self.path)
                body = registry.tarballs.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def registry() -> Iterator[Registry]:
    served = Registry()
    yield served
    served.server.shutdown()


@pytest.fixture
def script(tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = load_script()
    package = tarball(
        {
            "dist/lib.min.js": b"console.log(1);\n//# sourceMappingURL=lib.min.js.map",
            "dist/lib.min.css": b"a{color:red}\n/*# sourceMappingURL=lib.min.css.map */",
            "LICENSE": b"MIT",
        }
    )
    registry.tarballs["/@acme/lib/-/lib-1.2.3.tgz"] = package
    lock = {
        "lockfileVersion": 3,
        "packages": {"node_modules/@acme/lib": {"version": "1.2.3", "integrity": integrity(package)}},
    }
    lockfile = tmp_path / "package-lock.json"
    lockfile.write_text(json.dumps(lock))
    vendor = tmp_path / "static" / "vendor"
    monkeypatch.setattr(module, "LOCKFILE", lockfile)
    monkeypatch.setattr(module, "VENDOR_DIR", vendor)
    monkeypatch.setattr(module, "STAMP", vendor / ".stamp")
    monkeypatch.setattr(
        module,
        "FILES",
        {
            "@acme/lib": [
                ("dist/lib.min.js", "lib/lib.min.js"),
                ("dist/lib.min.css", "lib/lib.min.css"),
                ("LICENSE", "lib/LICENSE"),
            ]
        },
    )
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", registry.url + "/")
    monkeypatch.setenv("KESTREL_ASSET_CACHE", str(tmp_path / "cache"))
    return module


def test_fetches_verifies_and_extracts_only_the_listed_files(script: ModuleType, registry: Registry) -> None:
    assert script.main([]) == 0
    vendor = script.VENDOR_DIR
    assert (vendor / "lib" / "lib.min.js").read_bytes() == b"console.log(1);\n"  # no dangling source map
    assert b"sourceMappingURL" not in (vendor / "lib" / "lib.min.css").read_bytes()
    assert (vendor / "lib" / "LICENSE").read_bytes() == b"MIT"
    assert registry.requests == ["/@acme/lib/-/lib-1.2.3.tgz"]  # the scope is dropped from the file name


def test_second_run_is_a_no_op_and_check_reports_freshness(script: ModuleType, registry: Registry) -> None:
    assert script.main(["--check"]) == 1
    assert script.main([]) == 0
    assert script.main([]) == 0
    assert script.main(["--check"]) == 0
    assert len(registry.requests) == 1
    (script.VENDOR_DIR / "lib" / "lib.min.js").unlink()
    assert script.main(["--check"]) == 1
    assert script.main([]) == 0
    assert len(registry.requests) == 1  # the verified tarball came from the cache


def test_a_tarball_that_does_not_match_the_lockfile_is_refused(
    script: ModuleType, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert script.main([]) == 0
    registry.tarballs["/@acme/lib/-/lib-1.2.3.tgz"] = tarball({"dist/lib.min.js": b"evil()"})
    for cached in Path(script.cache_path("x")).parent.glob("*.tgz"):
        cached.unlink()
    assert script.main(["--force"]) == 1
    assert "does not match the integrity hash" in capsys.readouterr().err
    # The previous, verified files are still in place.
    assert (script.VENDOR_DIR / "lib" / "lib.min.js").read_bytes() == b"console.log(1);\n"


def test_the_real_lockfile_pins_every_served_package() -> None:
    module = load_script()
    lock = json.loads(module.LOCKFILE.read_text())
    packages = module.locked_packages(lock)
    assert set(packages) == {"@tabler/core", "@tabler/icons-webfont", "echarts", "@alpinejs/csp"}
    assert all(entry["integrity"].startswith("sha512-") for entry in packages.values())
