"""schemathesis hooks for Madadkar's sync API (loaded by scripts/schemathesis.sh).

schemathesis generates the binary bodies as bytes; these serializers send half of them as they
are (fuzzing the frame headers) and wrap the other half in a well-formed frame, so the server's
change parsing and Automerge's sync-message decoding are fuzzed too, not only the first bytes.
"""

import struct

import schemathesis


def _bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


@schemathesis.serializer("application/x-madadkar-changes")
def changes_frame(ctx, value):
    """A push body: `"MDKC" u8:1 u32:count { uuid:16 u64:0 u32:len bytes }*`."""
    data = _bytes(value)
    if data and data[0] % 2 == 0:
        household = (data + bytes(16))[:16]
        change = struct.pack("<Q", 0) + struct.pack("<I", len(data)) + data
        return b"MDKC" + bytes([1]) + struct.pack("<I", 1) + household + change
    return data


@schemathesis.serializer("application/octet-stream")
def doc_sync_frame(ctx, value):
    """A per-household sync round: `u32:len state u32:len message`."""
    data = _bytes(value)
    if data and data[0] % 2 == 0:
        return struct.pack("<I", 0) + struct.pack("<I", len(data)) + data
    return data
