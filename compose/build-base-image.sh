#!/usr/bin/env bash
# Build the stack's base image without any image registry: a minimal Debian bookworm with
# python3, made by mmdebstrap from Debian packages and piped into `docker import`.
#
#   compose/build-base-image.sh [TAG]      (default gamedrill-base:bookworm)
#
# Idempotent: when TAG already exists, nothing is built. Then build the stack image on it:
#   docker build --build-arg BASE_IMAGE=gamedrill-base:bookworm ...   (`make images` does both)
#
# Needs root (or a user mmdebstrap can unshare for), mmdebstrap and a Docker engine.
# GAMEDRILL_DEBIAN_MIRROR overrides mmdebstrap's default Debian mirror (a URI, a
# sources.list line, or a sources file).
set -euo pipefail

TAG="${1:-gamedrill-base:bookworm}"

if docker image inspect "$TAG" >/dev/null 2>&1; then
    echo "base image $TAG exists: nothing to build"
    exit 0
fi
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is missing: apt-get install -y mmdebstrap" >&2; exit 1; }

mirrors=()
if [[ -n "${GAMEDRILL_DEBIAN_MIRROR:-}" ]]; then
    mirrors=("$GAMEDRILL_DEBIAN_MIRROR")
fi

echo "building base image $TAG with mmdebstrap (bookworm + python3)"
# The `essential` variant plus python3 is all the services need (they are stdlib-only);
# docs, man pages and translations are left out to keep the image small.
mmdebstrap --quiet --variant=essential --include=python3 \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    bookworm - "${mirrors[@]}" \
    | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        - "$TAG"
echo "base image $TAG built"
