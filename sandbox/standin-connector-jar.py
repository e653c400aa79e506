#!/usr/bin/env python3
"""dasprov sandbox: writes the stand-in MySQL connector jar that the demo and tests upload.

    standin-connector-jar.py OUT.jar [--without-driver]

The sandbox's stand-in DAS server accepts `com.mysql.jdbc.Driver` only when a jar in
repository/components/lib/ holds `com/mysql/jdbc/Driver.class`, as the product's class loader
would. This jar holds that entry (its bytes are a marker, not Java code), a manifest and the
JDBC service file, so nothing is downloaded and no binary is committed. The output is the same
bytes every time: fixed entry order, timestamps, permissions, and no compression. With
--without-driver the jar has the manifest only (a connector-named jar that cannot help).
"""
import os
import sys
import zipfile

MANIFEST = (
    "Manifest-Version: 1.0\r\n"
    "Implementation-Title: MySQL Connector Java (dasprov sandbox stand-in)\r\n"
    "Implementation-Version: 5.1.49-standin\r\n"
    "Implementation-Vendor: dasprov sandbox\r\n"
    "\r\n"
)
# A class file's magic number, then a note: enough for a lookup by entry name, useless to a JVM.
DRIVER = b"\xca\xfe\xba\xbe" + b"\x00\x00\x00\x32" + b"dasprov sandbox stand-in for com.mysql.jdbc.Driver; not Java code\n"


def entries(with_driver):
    yield "META-INF/MANIFEST.MF", MANIFEST.encode()
    if with_driver:
        yield "META-INF/services/java.sql.Driver", b"com.mysql.jdbc.Driver\n"
        yield "com/mysql/jdbc/Driver.class", DRIVER


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1 or any(a not in ("--without-driver",) for a in argv if a.startswith("--")):
        sys.exit("usage: standin-connector-jar.py OUT.jar [--without-driver]")
    out = args[0]
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as jar:
        for name, data in entries("--without-driver" not in argv):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            jar.writestr(info, data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1:])
