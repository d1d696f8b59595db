#!/usr/bin/env python3
"""Fetch the front-end assets Kestrel serves into ``kestrel/web/static/vendor/`` (PLT-3: no CDN).

Customers run Kestrel on closed intranets, so every stylesheet, font and script is served by Kestrel
itself. The versions are pinned in ``package-lock.json`` (made with ``npm install --package-lock-only``),
but node is not needed here: this script reads the lockfile, downloads each package tarball from the
npm registry, checks it against the lockfile's ``integrity`` hash and copies only the built files a
page loads.

- Registry: ``https://registry.npmjs.org`` unless ``NPM_CONFIG_REGISTRY`` (or npm's lower-case
  ``npm_config_registry``) names a mirror, e.g. ``https://registry.npmmirror.com``.
- Idempotent: a stamp file records the hash of the lockfile and of the file list below; when it
  matches and every file is present, nothing is downloaded.
- Tarballs are cached under ``$KESTREL_ASSET_CACHE`` (default ``~/.cache/kestrel/npm``), keyed by
  their integrity hash, so a second checkout on the same machine needs no network.

Usage: ``python scripts/fetch_assets.py [--force] [--check]`` (``--check``: exit 1 if out of date).
Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKFILE = ROOT / "package-lock.json"
VENDOR_DIR = ROOT / "kestrel" / "web" / "static" / "vendor"
STAMP = VENDOR_DIR / ".stamp"
DEFAULT_REGISTRY = "https://registry.npmjs.org"

# package name → (path inside the tarball, path under vendor/). Only what a page loads, plus licences.
FILES: dict[str, list[tuple[str, str]]] = {
    "@tabler/core": [
        ("dist/css/tabler.min.css", "tabler/css/tabler.min.css"),
        ("dist/js/tabler.min.js", "tabler/js/tabler.min.js"),
    ],
    "@tabler/icons-webfont": [
        ("dist/tabler-icons.min.css", "tabler-icons/tabler-icons.min.css"),
        # The stylesheet names all three formats; a manifest storage (collectstatic) needs each to exist.
        ("dist/fonts/tabler-icons.woff2", "tabler-icons/fonts/tabler-icons.woff2"),
        ("dist/fonts/tabler-icons.woff", "tabler-icons/fonts/tabler-icons.woff"),
        ("dist/fonts/tabler-icons.ttf", "tabler-icons/fonts/tabler-icons.ttf"),
        ("LICENSE", "tabler-icons/LICENSE"),
    ],
    "echarts": [
        ("dist/echarts.min.js", "echarts/echarts.min.js"),
        ("LICENSE", "echarts/LICENSE"),
    ],
    # Alpine's CSP build: no eval/new Function, so it runs under our script-src 'self' + nonce policy.
    "@alpinejs/csp": [
        ("dist/cdn.min.js", "alpine/cdn.min.js"),
    ],
}

# The .map files are not shipped; a dangling sourceMappingURL would make ManifestStaticFilesStorage
# (collectstatic in production) fail, so the comment is dropped from the copies.
SOURCE_MAP_COMMENT = re.compile(rb"\n?(?://# sourceMappingURL=[^\n]*|/\*# sourceMappingURL=[^*]*\*/)\s*$")


class FetchError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="download and extract even if up to date")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if assets are missing")
    args = parser.parse_args(argv)

    lock_bytes = LOCKFILE.read_bytes()
    stamp = stamp_for(lock_bytes)
    if not args.force and is_current(stamp):
        print(f"fetch_assets: {relative(VENDOR_DIR)} is up to date.")
        return 0
    if args.check:
        print(f"fetch_assets: {relative(VENDOR_DIR)} is missing or stale; run python scripts/fetch_assets.py")
        return 1
    try:
        packages = locked_packages(json.loads(lock_bytes))
        install(packages, registry=registry_url(), stamp=stamp)
    except FetchError as error:
        print(f"fetch_assets: {error}", file=sys.stderr)
        return 1
    print(f"fetch_assets: {len(packages)} packages into {relative(VENDOR_DIR)}.")
    return 0


def stamp_for(lock_bytes: bytes) -> str:
    """Changes when the lockfile or the list of served files changes."""
    digest = hashlib.sha256(lock_bytes)
    digest.update(json.dumps(FILES, sort_keys=True).encode())
    return digest.hexdigest()


def is_current(stamp: str) -> bool:
    if not STAMP.is_file() or STAMP.read_text().strip() != stamp:
        return False
    return all((VENDOR_DIR / target).is_file() for files in FILES.values() for _, target in files)


def locked_packages(lock: dict) -> dict[str, dict]:
    """Version and integrity of each package in FILES, from a lockfile of version 2 or 3."""
    entries = lock.get("packages") or {}
    packages = {}
    for name in FILES:
        entry = entries.get(f"node_modules/{name}")
        if not entry or "version" not in entry or "integrity" not in entry:
            raise FetchError(
                f"{name} (with version and integrity) is not in package-lock.json; "
                "add it to package.json and run `npm install --package-lock-only`."
            )
        packages[name] = entry
    return packages


def registry_url() -> str:
    # npm itself exports the lower-case spelling to scripts it runs, so honour both.
    configured = os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry")  # noqa: SIM112
    registry = (configured or DEFAULT_REGISTRY).rstrip("/")
    if not registry.startswith(("https://", "http://")):
        raise FetchError(f"NPM_CONFIG_REGISTRY must be an http(s) URL, not {registry!r}.")
    return registry


def tarball_url(registry: str, name: str, version: str) -> str:
    # The registry's own layout: /@scope/name/-/name-1.2.3.tgz (the file name drops the scope).
    return f"{registry}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def install(packages: dict[str, dict], *, registry: str, stamp: str) -> None:
    VENDOR_DIR.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and swap at the end, so an interrupted run never leaves half a vendor/.
    # The hidden name keeps staging out of collectstatic (it ignores ".*"); leftovers of a killed run
    # are removed here.
    for leftover in VENDOR_DIR.parent.glob(".vendor-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=".vendor-", dir=VENDOR_DIR.parent))
    try:
        for name, entry in packages.items():
            tarball = fetch_tarball(registry, name, entry["version"], entry["integrity"])
            extract(tarball, name, FILES[name], staging)
            print(f"  {name}@{entry['version']}")
        (staging / ".stamp").write_text(stamp + "\n")
        if VENDOR_DIR.exists():
            shutil.rmtree(VENDOR_DIR)
        staging.rename(VENDOR_DIR)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def fetch_tarball(registry: str, name: str, version: str, integrity: str) -> bytes:
    cache = cache_path(integrity)
    if cache.is_file():
        data = cache.read_bytes()
        if verify(data, integrity):
            return data
        cache.unlink()
    url = tarball_url(registry, name, version)
    data = download(url)
    if not verify(data, integrity):
        raise FetchError(f"{url} does not match the integrity hash in package-lock.json; refusing it.")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(data)
    except OSError:
        pass  # the cache is a convenience; a read-only home directory is fine
    return data


def cache_path(integrity: str) -> Path:
    root = Path(os.environ.get("KESTREL_ASSET_CACHE") or Path.home() / ".cache" / "kestrel" / "npm")
    return root / (hashlib.sha256(integrity.encode()).hexdigest() + ".tgz")


def download(url: str, attempts: int = 3) -> bytes:
    # The URL is http(s) only (registry_url checks the scheme).
    request = urllib.request.Request(url, headers={"User-Agent": "kestrel-fetch-assets"})  # noqa: S310
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if isinstance(error, urllib.error.HTTPError) and error.code == 404:
                raise FetchError(f"{url}: not found on the registry.") from error
            if attempt == attempts:
                raise FetchError(
                    f"cannot download {url}: {error}. Set NPM_CONFIG_REGISTRY to a reachable mirror "
                    "or HTTPS_PROXY to your proxy."
                ) from error
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def verify(data: bytes, integrity: str) -> bool:
    """Subresource-integrity check, as npm does: any listed hash of the strongest algorithm matches."""
    strength = {"sha512": 3, "sha384": 2, "sha256": 1}
    hashes = [item.split("-", 1) for item in integrity.split() if "-" in item]
    hashes = [(algorithm, expected) for algorithm, expected in hashes if algorithm in strength]
    if not hashes:
        raise FetchError(f"unsupported integrity value {integrity!r}")
    best = max(strength[algorithm] for algorithm, _ in hashes)
    for algorithm, expected in hashes:
        if strength[algorithm] == best:
            actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
            if actual == expected:
                return True
    return False


def extract(tarball: bytes, name: str, files: list[tuple[str, str]], target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        # npm packs everything under one top-level folder, usually "package/" but not always.
        members = {
            member.name.split("/", 1)[1]: member
            for member in archive.getmembers()
            if member.isfile() and "/" in member.name
        }
        for source, destination in files:
            member = members.get(source)
            if member is None:
                raise FetchError(f"{name}: {source} is not in the package; update FILES in this script.")
            handle = archive.extractfile(member)
            assert handle is not None
            content = handle.read()
            if destination.endswith((".js", ".css")):
                content = SOURCE_MAP_COMMENT.sub(b"\n", content)
            path = target / destination
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
