#!/usr/bin/env bash
# Installs the Debian 12 packages kofu builds and tests with, idempotently: packages already
# present are left alone and apt is not touched at all when nothing is missing.
# Needs root (or sudo) only when something has to be installed.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git openssl clang-format
  libboost1.81-dev          # Asio, Beast (header-only parts)
  libssl-dev                # OpenSSL 3: TLS, SHA-256, report signing
  nlohmann-json3-dev        # JSON
  libvalijson-dev           # JSON Schema validation of scenarios
  libcli11-dev              # command line
  libfmt-dev                # formatting
  libzstd-dev               # compressed histories
  libjq-dev                 # jq expressions in vendor profiles (extraction, classification)
  libjemalloc-dev           # the kofu executable's allocator (CMake option KOFU_JEMALLOC)
  libgtest-dev libgmock-dev # tests
  clang-14 libclang-rt-14-dev # libFuzzer targets with ASan + UBSan (tests/fuzz)
  libbenchmark-dev          # benchmarks (tests/bench)
  libxml2-dev               # reads junit.xml back and checks it against the JUnit schema (tests/reports)
  libsimdjson-dev           # yardstick JSON parser in tests/bench/verify_floor (not linked by kofu)
  wrk                       # side-by-side load comparisons (tests/bench)
  jq                        # reads report.json in the end-to-end campaign (tests/e2e)
  python3                   # arithmetic and JSON in the benchmark scripts (tests/bench/*.sh)
  chromium                  # headless browser test of report.html (render, print to A4 PDF, screenshot)
  poppler-utils             # pdfinfo: the page size of report.html printed by chromium
  fonts-ipafont-gothic      # a Japanese font, so that report.html's screenshots and PDF show kanji
  libcairo2-dev libpango1.0-dev # kofu-mock --print-format pdf: cairo draws the PDF; pango's package
                            # brings HarfBuzz, FreeType and fontconfig, which shape and find the fonts
  libpoppler-cpp-dev        # reads PDF print data back (kofu's PDF adapter, kofu-mock's print tests)
  fonts-ipamj-mincho        # IPAmj明朝: the MJ character set with its IVS, for names on PDF print data
  fonts-noto-cjk            # Noto Serif CJK JP: fallback for a character IPAmj明朝 lacks
  libpoppler-private-dev    # kofu reads the images a PDF page draws (poppler core; poppler-cpp has no image API)
  libpng-dev                # the pixels of the population's seal PNGs, compared with a PDF's seal image
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
