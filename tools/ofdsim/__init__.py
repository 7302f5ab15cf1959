"""Simulated OFD (fiscal data operator) for protocol 2.0.3.

A real TCP server for the binary KKM protocol (18-byte header + protobuf),
SQLite storage with append-only fiscal tables, token rotation, duplicate
detection, fiscal signs, server-side X/Z reports, a sample National
Catalogue, fault injection and a receipt check page.

Start it with ``python -m tools.ofdsim --db var/ofd.sqlite`` (see
docs/ofdsim.md). Messages are decoded and encoded with Google's protobuf
package compiled from firmware/ofd/ofd203.proto (tools/pb.py), never with
the firmware's own codec, so the simulator checks every byte independently.
"""
