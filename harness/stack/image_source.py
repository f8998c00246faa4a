"""What the shop image is built from, as one digest, so a stale image is refused, not run.

`make images` stamps the digest of these sources into the image as a label; the docker
backend compares it with the checkout's before it starts anything. Standard library only,
and runnable as a plain script (`python3 harness/stack/image_source.py` prints the digest)
so the Makefile needs nothing installed to compute it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE_SOURCES = ("compose/Dockerfile", "compose/shop", "harness/__init__.py", "harness/proxy")
DIGEST_LABEL = "dev.gamedrill.source-digest"


def source_digest(root: Path = REPO_ROOT) -> str:
    """sha256 over every source file's path and bytes (caches left out), in path order."""
    digest = hashlib.sha256()
    files = []
    for name in IMAGE_SOURCES:
        path = root / name
        files += sorted(path.rglob("*")) if path.is_dir() else [path]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    sys.stdout.write(source_digest() + "\n")
