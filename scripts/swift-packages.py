#!/usr/bin/env python3
"""The Swift packages linked into a trackerd binary, with versions and licences, for the .deb.

Reads `swift package show-dependencies --format json` on stdin (run where .build/checkouts
exists); writes one line per package: name, version, URL, licence (SPDX). A licence that is
not recognised stops the build: someone must read it before we ship it.
    usage: swift package show-dependencies --format json | scripts/swift-packages.py OUT
"""
import json, os, sys

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

packages = walk(json.load(sys.stdin), {})
lines = ["The Swift packages statically linked into /usr/bin/trackerd (exact versions from Package.swift;",
         "swift-collections comes with swift-async-algorithms). On Debian the Apache-2.0 text is also in",
         "/usr/share/common-licenses/Apache-2.0.", ""]
for identity in sorted(packages):
    package = packages[identity]
    spdx, _ = licence(package["path"])
    lines.append(f"{identity} {package['version']} {package['url']} {spdx}")
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("\n".join(lines) + "\n")
