#!/usr/bin/env bash
# make deb: trackerd's Debian package, from the release binary
# (static Swift runtime, stripped) and the files under packaging/debian, systemd/, udev/,
# boards/ and etc/. Prints the path of the .deb it wrote.
#   usage: VERSION=V DEB_ARCH=A [STRIP=strip] scripts/build-deb.sh RELEASE_BINARY OUTPUT.deb
#   (make deb sets them: the version is TrackerCore.version).
set -euo pipefail
binary=$1
deb=$(realpath -m "$2")
out=$(dirname "$deb")
mkdir -p "$out"
version=${VERSION:?VERSION is not set (run make deb)}
arch=${DEB_ARCH:?DEB_ARCH is not set (run make deb)}
strip=${STRIP:-strip}
changelog_version=$(sed -n '1s/^trackerd (\([^)]*\)).*/\1/p' packaging/debian/changelog)
if [ "$version" != "$changelog_version" ]; then
    echo "build-deb: TrackerCore.version is $version but packaging/debian/changelog starts with $changelog_version" >&2
    exit 1
fi
stage=$out/stage
rm -rf "$stage"
umask 022
mkdir -p "$stage/DEBIAN"

install -D -m 0755 "$binary" "$stage/usr/bin/trackerd"
# As dh_strip does for executables: symbols and the .comment/.note sections go; Swift's
# metadata sections stay (the runtime reads them).
"$strip" --remove-section=.comment --remove-section=.note "$stage/usr/bin/trackerd"
install -D -m 0644 systemd/trackerd.service "$stage/lib/systemd/system/trackerd.service"
install -D -m 0644 systemd/trackerd-update.path "$stage/lib/systemd/system/trackerd-update.path"
install -D -m 0644 systemd/trackerd-update.service "$stage/lib/systemd/system/trackerd-update.service"
install -D -m 0755 packaging/trackerd-update "$stage/usr/lib/trackerd/trackerd-update"
# What trackerd reports as its version (an install-package job waits for it).
printf '%s\n' "$version" > "$stage/usr/lib/trackerd/version"
chmod 0644 "$stage/usr/lib/trackerd/version"
for rules in udev/*.rules; do install -D -m 0644 "$rules" "$stage/lib/udev/rules.d/$(basename "$rules")"; done
install -D -m 0644 etc/trackerd.toml "$stage/etc/trackerd/trackerd.toml"
for board in boards/*.toml; do install -D -m 0644 "$board" "$stage/usr/share/trackerd/boards/$(basename "$board")"; done

doc=$stage/usr/share/doc/trackerd
install -D -m 0644 packaging/debian/copyright "$doc/copyright"
install -m 0644 packaging/debian/changelog "$doc/changelog"
install -m 0644 README.md "$doc/README.md"
python3 scripts/swift-packages.py "$doc/swift-packages.txt" "$binary" < "${DEPENDENCIES:?DEPENDENCIES is not set (run make deb)}"
chmod 0644 "$doc/swift-packages.txt"
gzip -9n "$doc/changelog" "$doc/README.md"
mkdir -p "$stage/usr/share/man/man8"
sed "s/@VERSION@/$version/" packaging/debian/trackerd.8 > "$stage/usr/share/man/man8/trackerd.8"
gzip -9n "$stage/usr/share/man/man8/trackerd.8"
chmod 0644 "$stage/usr/share/man/man8/trackerd.8.gz"

# The library dependencies, from the binary's NEEDED entries and Debian's shlibs/symbols files.
shlibs=$out/shlibs
rm -rf "$shlibs"; mkdir -p "$shlibs/debian"
printf 'Source: trackerd\n\nPackage: trackerd\nArchitecture: any\n' > "$shlibs/debian/control"
depends=$(cd "$shlibs" && DEB_HOST_ARCH=$arch dpkg-shlibdeps -O -e"$stage/usr/bin/trackerd" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# libcurl (the first job download) and libgps (a gpsd source) are opened with dlopen, so
# dpkg-shlibdeps cannot see them.
depends="$depends, libcurl4 (>= 7.88), libgps28"
# The binary's relocations are packed (DT_RELR, GLIBC_ABI_DT_RELR): glibc 2.36 or later, which
# dpkg's symbols file does not say.
depends=$(sed 's/libc6 (>= [0-9.]*)/libc6 (>= 2.36)/' <<< "$depends")

installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
    -e "s/@INSTALLED_SIZE@/$installed_size/" packaging/debian/control > "$stage/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "packaging/debian/$script" "$stage/DEBIAN/$script"; done
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
