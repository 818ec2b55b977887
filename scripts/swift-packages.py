#!/usr/bin/env python3
"""The Swift packages linked into a trackerd binary, with versions and licences, for the .deb.

Reads `swift package show-dependencies --format json` on stdin (run where .build/checkouts
exists) and keeps the packages whose modules the binary's symbols name (the package also
builds localcloud, whose packages trackerd does not link); writes one line per package: name,
version, URL, licence (SPDX). A licence that is not recognised stops the build: someone must
read it before we ship it.
    usage: swift package show-dependencies --format json | scripts/swift-packages.py OUT BINARY
"""
import json, os, re, subprocess, sys

def walk(node, seen):
    for dependency in node.get("dependencies", []):
        seen.setdefault(dependency["identity"], dependency)
        walk(dependency, seen)
    return seen

def licence(path):
    for name in ("LICENSE.txt", "LICENSE", "LICENSE.md"):
        file = os.path.join(path, name)
        if os.path.exists(file):
            text = open(file, encoding="utf-8").read()
            if "Apache License" in text and "Version 2.0, January 2004" in text:
                return "Apache-2.0", text
            sys.exit(f"swift-packages: {file}: not a licence this script knows; read it and add it")
    sys.exit(f"swift-packages: no licence file in {path}")

def linked_modules(binary):
    """The Swift modules the (unstripped) binary has code of: `$s<length><module>...` symbols."""
    names = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    modules = set()
    for match in re.finditer(r"\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)", names):
        length = int(match.group(1))
        if len(match.group(2)) >= length:
            modules.add(match.group(2)[:length])
    return modules

def package_modules(package):
    """The package's module names, as SwiftPM describes its targets (a target's directory
    need not carry its name)."""
    described = subprocess.run(["swift", "package", "--package-path", package["path"], "describe", "--type", "json"],
                               capture_output=True, text=True, check=True).stdout
    return {target.get("c99name", target["name"]) for target in json.loads(described[described.index("{"):])["targets"]}

modules = linked_modules(sys.argv[2])
packages = {identity: package for identity, package in walk(json.load(sys.stdin), {}).items()
            if package_modules(package) & modules}
if not packages:
    sys.exit("swift-packages: the binary names no module of any package (stripped?)")
lines = ["The Swift packages statically linked into /usr/bin/trackerd (exact versions from Package.swift).",
         "On Debian the Apache-2.0 text is also in /usr/share/common-licenses/Apache-2.0.", ""]
for identity in sorted(packages):
    package = packages[identity]
    spdx, _ = licence(package["path"])
    lines.append(f"{identity} {package['version']} {package['url']} {spdx}")
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("\n".join(lines) + "\n")
