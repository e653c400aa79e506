#!/usr/bin/env bash
# Builds the transport benchmark (bench/ssh/main.swift, release) as a package of its own over
# the repository's CLibSSH2, DasprovCore, DasprovShell (the remote programs the transport runs)
# and DasprovSSH sources, so it measures exactly the code
# dasprov runs. Used by bench/run.sh and bench/ssh/run.sh.
#
#   bench/ssh/build.sh PACKAGE_DIR LOG    # prints the benchmark binary's path
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pkg=$1
log=$2
mkdir -p "$pkg/Sources/ssh-bench"
for t in CLibSSH2 DasprovCore DasprovShell DasprovSSH; do ln -sfn "$repo/Sources/$t" "$pkg/Sources/$t"; done
cp "$here/main.swift" "$pkg/Sources/ssh-bench/main.swift"
cat > "$pkg/Package.swift" <<'SWIFT'
// swift-tools-version:6.0
// Written by bench/ssh/build.sh: bench/ssh/main.swift over the repository's transport sources.
import PackageDescription
let package = Package(
  name: "ssh-bench",
  platforms: [.macOS(.v15)],
  dependencies: [.package(url: "https://github.com/apple/swift-crypto", from: "3.12.3")],
  targets: [
    .systemLibrary(name: "CLibSSH2", path: "Sources/CLibSSH2", pkgConfig: "libssh2"),
    .target(
      name: "DasprovCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
      path: "Sources/DasprovCore"),
    .target(name: "DasprovShell", dependencies: ["DasprovCore"], path: "Sources/DasprovShell", exclude: ["Programs"]),
    .target(name: "DasprovSSH", dependencies: ["DasprovCore", "DasprovShell", "CLibSSH2"], path: "Sources/DasprovSSH"),
    .executableTarget(name: "ssh-bench", dependencies: ["DasprovSSH", "DasprovCore"], path: "Sources/ssh-bench"),
  ])
SWIFT
if ! swift build -c release --package-path "$pkg" >"$log" 2>&1; then
  tail -30 "$log" >&2
  echo "bench: the transport benchmark did not build (log: $log)" >&2
  exit 1
fi
echo "$pkg/.build/release/ssh-bench"
