#!/usr/bin/env python3
"""Reference encoder/decoder for the release-chan binary protocol, version 1.

The protocol is specified in docs/protocol.md. This script implements it from that text
(standard library only) and produces the conformance vectors that the server's and the
Swift SDK's tests decode and encode.

Usage:
    python3 scripts/protocol_vectors.py           write Tests/Fixtures/protocol-vectors.json
    python3 scripts/protocol_vectors.py --check   re-decode every vector in the file, verify that
                                                  it matches its "frame" and re-encodes to the
                                                  same bytes; exit 1 otherwise
    python3 scripts/protocol_vectors.py --dump    print the annotated hex dumps shown in
                                                  docs/protocol.md (section "Worked examples")

Generation is deterministic. SNAPSHOT bodies are gzip data; different zlib versions may
produce different (equally valid) bytes, so such vectors are marked "compressed": true and
consumers compare the decompressed text, not the compressed bytes.
"""

import argparse
import gzip
import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VECTORS_PATH = ROOT / "Tests" / "Fixtures" / "protocol-vectors.json"

# --- Constants (docs/protocol.md, sections 3-7) -------------------------------------------

PROTOCOL_VERSION = 1
LENGTH_SIZE = 4            # the u32 length prefix
HEADER_SIZE = 16           # version .. revision; the minimum value of the length field
DEFAULT_MAX_FRAME = 65536  # largest client frame the server accepts, length prefix included
MAX_HELLO_VERSIONS = 16
MAX_CLIENT_NAME_BYTES = 64
MAX_PING_PAYLOAD = 64
MAX_BATCH_PAIRS = 256

FLAG_REPLY = 0x01
FLAG_PUSH = 0x02
FLAG_COMPRESSED = 0x04
KNOWN_FLAGS = FLAG_REPLY | FLAG_PUSH | FLAG_COMPRESSED

ERROR, HELLO, PING, GET, GET_CONTAINER, BATCH_GET = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05
REVISION, SNAPSHOT, WATCH, UNWATCH, REVISION_CHANGED = 0x06, 0x07, 0x08, 0x09, 0x20

OPCODE_NAMES = {
    ERROR: "ERROR", HELLO: "HELLO", PING: "PING", GET: "GET",
    GET_CONTAINER: "GET_CONTAINER", BATCH_GET: "BATCH_GET", REVISION: "REVISION",
    SNAPSHOT: "SNAPSHOT", WATCH: "WATCH", UNWATCH: "UNWATCH",
    REVISION_CHANGED: "REVISION_CHANGED",
}
OPCODES = {name: code for code, name in OPCODE_NAMES.items()}

STATUS_NAMES = [
    "OK", "NOT_FOUND", "BAD_FRAME", "UNSUPPORTED_VERSION", "UNKNOWN_OPCODE",
    "FRAME_TOO_LARGE", "BAD_REQUEST", "BUSY", "INTERNAL",
]
OK, NOT_FOUND, BAD_REQUEST, INTERNAL = 0, 1, 6, 8
# What GET would have answered for the pair; INTERNAL is a server fault for that pair only.
BATCH_ITEM_STATUSES = (OK, NOT_FOUND, BAD_REQUEST, INTERNAL)

ZERO_REVISION = "0" * 16


def opcode_name(code):
    return OPCODE_NAMES.get(code, "UNKNOWN")


def status_name(code):
    return STATUS_NAMES[code] if code < len(STATUS_NAMES) else f"UNKNOWN_STATUS_{code}"


class ProtocolError(Exception):
    """The bytes do not form a valid version 1 frame or body."""


# --- Encoding ------------------------------------------------------------------------------

class Writer:
    """Appends big-endian integers and length-prefixed UTF-8 strings."""

    def __init__(self):
        self.data = bytearray()

    def u8(self, value):
        self.data += struct.pack(">B", value)

    def u16(self, value):
        self.data += struct.pack(">H", value)

    def u32(self, value):
        self.data += struct.pack(">I", value)

    def u64(self, value):
        self.data += struct.pack(">Q", value)

    def string(self, value):
        encoded = value.encode("utf-8")
        if len(encoded) > 0xFFFF:
            raise ProtocolError("string longer than 65535 bytes")
        self.u16(len(encoded))
        self.data += encoded

    def raw(self, value):
        self.data += value


def write_release(w, release):
    for field in ("container", "channel", "image", "digest", "updated_at"):
        w.string(release[field])


def write_revision_info(w, body):
    w.u64(body["loaded_at_ms"])
    w.u32(body["releases"])
    w.u32(body["containers"])


def encode_request_body(opcode, body):
    w = Writer()
    if opcode == HELLO:
        w.u8(len(body["versions"]))
        for version in body["versions"]:
            w.u8(version)
        w.string(body["client_name"])
    elif opcode == PING:
        w.raw(bytes.fromhex(body["payload_hex"]))
    elif opcode == GET:
        w.string(body["container"])
        w.string(body["channel"])
    elif opcode == GET_CONTAINER:
        w.string(body["container"])
    elif opcode == BATCH_GET:
        w.u16(len(body["pairs"]))
        for pair in body["pairs"]:
            w.string(pair["container"])
            w.string(pair["channel"])
    elif opcode in OPCODE_NAMES:  # REVISION, SNAPSHOT, WATCH, UNWATCH: empty body
        pass
    else:  # an opcode this version does not define: opaque bytes
        w.raw(bytes.fromhex(body.get("body_hex", "")))
    return bytes(w.data)


def encode_reply_body(opcode, status, body):
    w = Writer()
    if opcode == ERROR or status != OK:
        w.string(body["message"])
    elif opcode == HELLO:
        w.u8(body["version"])
        w.u32(body["max_frame"])
        w.string(body["server_id"])
        w.u64(body["loaded_at_ms"])
    elif opcode == PING:
        w.raw(bytes.fromhex(body["payload_hex"]))
    elif opcode == GET:
        write_release(w, body["release"])
    elif opcode == GET_CONTAINER:
        w.u16(len(body["releases"]))
        for release in body["releases"]:
            write_release(w, release)
    elif opcode == BATCH_GET:
        w.u16(len(body["results"]))
        for result in body["results"]:
            w.u8(result["status"])
            if result["status"] == OK:
                write_release(w, result["release"])
    elif opcode == REVISION:
        write_revision_info(w, body)
    elif opcode == SNAPSHOT:
        w.raw(body["json"].encode("utf-8"))
    # WATCH, UNWATCH: empty body
    return bytes(w.data)


def encode_push_body(opcode, body):
    if opcode != REVISION_CHANGED:
        raise ProtocolError(f"opcode 0x{opcode:02x} is not a push")
    w = Writer()
    write_revision_info(w, body)
    return bytes(w.data)


def encode_frame(frame, compressed_body=None):
    """Encodes a frame dict (the "frame" object of a vector) to bytes, length prefix included.

    With the COMPRESSED flag the body is gzipped; pass compressed_body to reuse existing gzip
    bytes instead (gzip output may differ between zlib versions).
    """
    opcode, flags, status = frame["opcode"], frame["flags"], frame["status"]
    if flags & FLAG_PUSH:
        body = encode_push_body(opcode, frame["body"])
    elif flags & FLAG_REPLY:
        body = encode_reply_body(opcode, status, frame["body"])
    else:
        body = encode_request_body(opcode, frame["body"])
    if flags & FLAG_COMPRESSED:
        body = compressed_body if compressed_body is not None else gzip.compress(body, mtime=0)
    header = struct.pack(
        ">BBBBI8s", frame["version"], opcode, flags, status, frame["request_id"],
        bytes.fromhex(frame["revision"]),
    )
    return struct.pack(">I", len(header) + len(body)) + header + body


# --- Decoding ------------------------------------------------------------------------------

class Reader:
    """Reads fields from a byte string and records (offset, bytes, meaning) for each one."""

    def __init__(self, data, base_offset=0):
        self.data = data
        self.pos = 0
        self.base_offset = base_offset
        self.notes = []

    def take(self, size, what):
        if self.pos + size > len(self.data):
            raise ProtocolError(f"truncated: {what} needs {size} bytes, {self.remaining()} left")
        start = self.pos
        self.pos += size
        return start, self.data[start:self.pos]

    def note(self, start, meaning):
        self.notes.append((self.base_offset + start, self.data[start:self.pos], meaning))

    def remaining(self):
        return len(self.data) - self.pos

    def _int(self, fmt, size, what, describe):
        start, raw = self.take(size, what)
        value = struct.unpack(fmt, raw)[0]
        self.note(start, describe(value) if describe else f"{what} {value}")
        return value

    def u8(self, what, describe=None):
        return self._int(">B", 1, what, describe)

    def u16(self, what, describe=None):
        return self._int(">H", 2, what, describe)

    def u32(self, what, describe=None):
        return self._int(">I", 4, what, describe)

    def u64(self, what, describe=None):
        return self._int(">Q", 8, what, describe)

    def string(self, what):
        size = self.u16(f"{what} length")
        start, raw = self.take(size, what)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(f"{what} is not valid UTF-8") from None
        self.note(start, f"{what} {json.dumps(value, ensure_ascii=False)}")
        return value

    def rest(self, what):
        start, raw = self.take(self.remaining(), what)
        if raw:
            self.note(start, f"{what} ({len(raw)} bytes)")
        return raw

    def finish(self):
        if self.remaining():
            raise ProtocolError(f"{self.remaining()} unexpected trailing bytes")


def read_release(r, label="release"):
    return {field: r.string(f"{label}.{field}")
            for field in ("container", "channel", "image", "digest", "updated_at")}


def read_revision_info(r):
    return {
        "loaded_at_ms": r.u64("loaded_at_ms"),
        "releases": r.u32("releases"),
        "containers": r.u32("containers"),
    }


def decode_request_body(opcode, r):
    if opcode == HELLO:
        count = r.u8("versions count")
        if not 1 <= count <= MAX_HELLO_VERSIONS:
            raise ProtocolError(f"HELLO offers {count} versions (1..{MAX_HELLO_VERSIONS})")
        versions = [r.u8("offered version") for _ in range(count)]
        client_name = r.string("client_name")
        if len(client_name.encode("utf-8")) > MAX_CLIENT_NAME_BYTES:
            raise ProtocolError("client_name longer than 64 bytes")
        return {"versions": versions, "client_name": client_name}
    if opcode == PING:
        payload = r.rest("payload")
        if len(payload) > MAX_PING_PAYLOAD:
            raise ProtocolError(f"PING payload of {len(payload)} bytes (max {MAX_PING_PAYLOAD})")
        return {"payload_hex": payload.hex()}
    if opcode == GET:
        return {"container": r.string("container"), "channel": r.string("channel")}
    if opcode == GET_CONTAINER:
        return {"container": r.string("container")}
    if opcode == BATCH_GET:
        count = r.u16("pair count")
        if not 1 <= count <= MAX_BATCH_PAIRS:
            raise ProtocolError(f"BATCH_GET with {count} pairs (1..{MAX_BATCH_PAIRS})")
        pairs = []
        for i in range(count):
            pairs.append({"container": r.string(f"pairs[{i}].container"),
                          "channel": r.string(f"pairs[{i}].channel")})
        return {"pairs": pairs}
    if opcode in (REVISION, SNAPSHOT, WATCH, UNWATCH):
        return {}
    # An opcode this version does not define (the server answers UNKNOWN_OPCODE).
    payload = r.rest("opaque body")
    return {"body_hex": payload.hex()} if payload else {}


def decode_reply_body(opcode, status, r):
    if opcode == ERROR and status == OK:
        raise ProtocolError("ERROR frame with status OK")
    if status != OK:
        return {"message": r.string("message")}
    if opcode == HELLO:
        return {
            "version": r.u8("chosen version"),
            "max_frame": r.u32("max_frame"),
            "server_id": r.string("server_id"),
            "loaded_at_ms": r.u64("loaded_at_ms"),
        }
    if opcode == PING:
        return {"payload_hex": r.rest("payload").hex()}
    if opcode == GET:
        return {"release": read_release(r)}
    if opcode == GET_CONTAINER:
        count = r.u16("release count")
        return {"releases": [read_release(r, f"releases[{i}]") for i in range(count)]}
    if opcode == BATCH_GET:
        count = r.u16("result count")
        results = []
        for i in range(count):
            item_status = r.u8(f"results[{i}].status",
                               lambda s, i=i: f"results[{i}].status {s} {status_name(s)}")
            if item_status not in BATCH_ITEM_STATUSES:
                raise ProtocolError(f"invalid BATCH_GET item status {item_status}")
            result = {"status": item_status}
            if item_status == OK:
                result["release"] = read_release(r, f"results[{i}].release")
            results.append(result)
        return {"results": results}
    if opcode == REVISION:
        return read_revision_info(r)
    if opcode == SNAPSHOT:
        raw = r.rest("db.json")
        try:
            return {"json": raw.decode("utf-8")}
        except UnicodeDecodeError:
            raise ProtocolError("SNAPSHOT body is not valid UTF-8") from None
    if opcode in (WATCH, UNWATCH):
        return {}
    raise ProtocolError(f"OK reply with unknown opcode 0x{opcode:02x}")


def decode_frame(data):
    """Decodes one complete frame. Returns (frame dict, notes); notes annotate every byte."""
    header = Reader(data)
    length = header.u32("length", lambda n: f"length {n} = 16 header + {n - HEADER_SIZE} body")
    if length < HEADER_SIZE:
        raise ProtocolError(f"length {length} is below the minimum of {HEADER_SIZE}")
    if LENGTH_SIZE + length != len(data):
        raise ProtocolError(f"length {length} does not match the {len(data) - LENGTH_SIZE} bytes that follow")
    version = header.u8("version")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"unsupported frame version {version}")
    opcode = header.u8("opcode", lambda c: f"opcode 0x{c:02x} {opcode_name(c)}")
    flags = header.u8("flags", describe_flags)
    if flags & ~KNOWN_FLAGS:
        raise ProtocolError(f"reserved flag bits set: 0x{flags:02x}")
    from_server = flags & (FLAG_REPLY | FLAG_PUSH)
    status = header.u8("status", lambda s: f"status {s} {status_name(s)}" if from_server else f"status {s}")
    request_id = header.u32("request_id")
    _, revision_bytes = header.take(8, "revision")
    revision = revision_bytes.hex()
    header.note(header.pos - 8, f"revision {revision}" + (" (none)" if revision == ZERO_REVISION else ""))

    body_offset = LENGTH_SIZE + HEADER_SIZE
    body = data[body_offset:]
    if not from_server and (flags or status):
        raise ProtocolError("requests must have flags 0 and status 0")
    if flags & FLAG_REPLY and flags & FLAG_PUSH:
        raise ProtocolError("REPLY and PUSH are exclusive")

    compressed_note = []
    if flags & FLAG_COMPRESSED:
        try:
            plain = gzip.decompress(body)
        except (OSError, EOFError) as error:
            raise ProtocolError(f"COMPRESSED body is not valid gzip: {error}") from None
        compressed_note = [(body_offset, body,
                            f"gzip data, {len(body)} bytes; decompresses to {len(plain)} bytes")]
        body_reader = Reader(plain)
    else:
        body_reader = Reader(body, body_offset)

    if flags & FLAG_PUSH:
        if opcode != REVISION_CHANGED or request_id != 0:
            raise ProtocolError("a push must be REVISION_CHANGED with request_id 0")
        decoded = read_revision_info(body_reader)
    elif flags & FLAG_REPLY:
        decoded = decode_reply_body(opcode, status, body_reader)
    else:
        decoded = decode_request_body(opcode, body_reader)
    body_reader.finish()

    frame = {
        "version": version,
        "opcode": opcode,
        "opcode_name": opcode_name(opcode),
        "flags": flags,
        "status": status,
        "request_id": request_id,
        "revision": revision,
        "body": decoded,
    }
    notes = header.notes + (compressed_note or body_reader.notes)
    return frame, notes


def describe_flags(flags):
    names = [name for bit, name in ((FLAG_REPLY, "REPLY"), (FLAG_PUSH, "PUSH"),
                                    (FLAG_COMPRESSED, "COMPRESSED")) if flags & bit]
    return f"flags 0x{flags:02x}" + (f" {'|'.join(names)}" if names else " (request)")


def direction_of(frame):
    return "server-to-client" if frame["flags"] & (FLAG_REPLY | FLAG_PUSH) else "client-to-server"


# --- The vectors ---------------------------------------------------------------------------

SERVER_REVISION = "2d19bd4351042722"     # revision of the sample db/db.json
PUSHED_REVISION = "8f3c2a61d0b4e597"     # an illustrative later revision for the push example
LOADED_AT_MS = 1764000000000
SNAPSHOT_JSON = '{"schema_version": 1, "channels": ["dev"], "releases": []}\n'


def load_releases(container):
    """The releases of one container from db/db.json, as release records."""
    db = json.loads((ROOT / "db" / "db.json").read_text(encoding="utf-8"))
    return [{
        "container": r["container"],
        "channel": r["channel"],
        "image": r["image"],
        "digest": r.get("digest", ""),
        "updated_at": r["updated_at"],
    } for r in db["releases"] if r["container"] == container]


def request(name, opcode, request_id, body=None):
    return name, {
        "version": PROTOCOL_VERSION, "opcode": opcode, "opcode_name": opcode_name(opcode),
        "flags": 0, "status": OK, "request_id": request_id, "revision": ZERO_REVISION,
        "body": body or {},
    }


def reply(name, opcode, request_id, body=None, status=OK, flags=FLAG_REPLY,
          revision=SERVER_REVISION):
    return name, {
        "version": PROTOCOL_VERSION, "opcode": opcode, "opcode_name": opcode_name(opcode),
        "flags": flags, "status": status, "request_id": request_id, "revision": revision,
        "body": body or {},
    }


def build_vectors():
    my_app = {r["channel"]: r for r in load_releases("my-app")}
    revision_info = {"loaded_at_ms": LOADED_AT_MS, "releases": 19, "containers": 7}
    frames = [
        request("hello-request", HELLO, 1, {"versions": [1], "client_name": "sdk-test"}),
        reply("hello-reply", HELLO, 1, {"version": 1, "max_frame": DEFAULT_MAX_FRAME,
                                        "server_id": "release-chan", "loaded_at_ms": LOADED_AT_MS}),
        request("hello-request-unsupported-version", HELLO, 1,
                {"versions": [2], "client_name": "sdk-test"}),
        reply("hello-reply-unsupported-version", HELLO, 1,
              {"message": "supported versions: 1"}, status=3),
        request("get-request-before-hello", GET, 3, {"container": "my-app", "channel": "dev"}),
        reply("get-reply-handshake-required", GET, 3,
              {"message": "handshake required"}, status=BAD_REQUEST),
        request("ping-request", PING, 2, {"payload_hex": b"hi".hex()}),
        reply("ping-reply", PING, 2, {"payload_hex": b"hi".hex()}),
        request("get-request", GET, 3, {"container": "my-app", "channel": "dev"}),
        reply("get-reply", GET, 3, {"release": my_app["dev"]}),
        request("get-request-unknown-channel", GET, 4, {"container": "my-app", "channel": "qa"}),
        reply("get-reply-bad-request", GET, 4,
              {"message": 'unknown channel "qa"'}, status=BAD_REQUEST),
        request("get-request-unknown-container", GET, 5, {"container": "nope", "channel": "dev"}),
        reply("get-reply-not-found", GET, 5,
              {"message": 'no releases for container "nope"'}, status=NOT_FOUND),
        request("get-container-request", GET_CONTAINER, 6, {"container": "my-app"}),
        reply("get-container-reply", GET_CONTAINER, 6,
              {"releases": [my_app["dev"], my_app["stage"], my_app["prod"]]}),
        request("batch-get-request", BATCH_GET, 7, {"pairs": [
            {"container": "my-app", "channel": "dev"},
            {"container": "nope", "channel": "dev"},
        ]}),
        reply("batch-get-reply", BATCH_GET, 7, {"results": [
            {"status": OK, "release": my_app["dev"]},
            {"status": NOT_FOUND},
        ]}),
        request("batch-get-request-invalid-name", BATCH_GET, 13, {"pairs": [
            {"container": "Bad_Name", "channel": "dev"},
            {"container": "my-app", "channel": "prod"},
        ]}),
        reply("batch-get-reply-invalid-name", BATCH_GET, 13, {"results": [
            {"status": BAD_REQUEST},
            {"status": OK, "release": my_app["prod"]},
        ]}),
        request("revision-request", REVISION, 8),
        reply("revision-reply", REVISION, 8, revision_info),
        request("watch-request", WATCH, 9),
        reply("watch-reply", WATCH, 9),
        reply("revision-changed-push", REVISION_CHANGED, 0,
              {"loaded_at_ms": LOADED_AT_MS + 300000, "releases": 19, "containers": 7},
              flags=FLAG_PUSH, revision=PUSHED_REVISION),
        request("unwatch-request", UNWATCH, 11),
        reply("unwatch-reply", UNWATCH, 11),
        request("snapshot-request", SNAPSHOT, 12),
        reply("snapshot-reply", SNAPSHOT, 12, {"json": SNAPSHOT_JSON},
              flags=FLAG_REPLY | FLAG_COMPRESSED),
        request("unknown-opcode-request", 0x7F, 10),
        reply("unknown-opcode-reply", 0x7F, 10, {"message": "unknown opcode 0x7f"}, status=4),
        reply("error-frame-too-large", ERROR, 0,
              {"message": "frame of 1048580 bytes exceeds the maximum of 65536"}, status=5),
        reply("error-busy", ERROR, 0,
              {"message": "too many connections (limit 1024)"}, status=7),
    ]
    vectors = []
    for name, frame in frames:
        vector = {"name": name, "direction": direction_of(frame),
                  "hex": encode_frame(frame).hex(), "frame": frame}
        if frame["flags"] & FLAG_COMPRESSED:
            vector["compressed"] = True
        vectors.append(vector)
    return vectors


# --- Checking and dumping ------------------------------------------------------------------

def check_vector(vector):
    """Returns a list of problems with one vector (empty if it round-trips)."""
    data = bytes.fromhex(vector["hex"])
    if vector["hex"] != data.hex():
        return ["hex is not lowercase"]
    try:
        frame, _ = decode_frame(data)
    except ProtocolError as error:
        return [f"does not decode: {error}"]
    problems = []
    if frame != vector["frame"]:
        problems.append(f"decodes to {json.dumps(frame)}, expected {json.dumps(vector['frame'])}")
    if direction_of(frame) != vector["direction"]:
        problems.append(f"direction should be {direction_of(frame)}")
    compressed = bool(frame["flags"] & FLAG_COMPRESSED)
    if vector.get("compressed", False) != compressed:
        problems.append(f'"compressed" should be {str(compressed).lower()}')
    body = data[LENGTH_SIZE + HEADER_SIZE:] if compressed else None
    if encode_frame(vector["frame"], compressed_body=body) != data:
        problems.append("re-encoding the frame does not give the same bytes")
    return problems


def check(vectors):
    failures = 0
    names = [v["name"] for v in vectors]
    if len(set(names)) != len(names):
        print("duplicate vector names", file=sys.stderr)
        failures += 1
    for vector in vectors:
        for problem in check_vector(vector):
            print(f"{vector['name']}: {problem}", file=sys.stderr)
            failures += 1
    return failures


def dump(vector):
    """An annotated hex dump: offset, up to 16 bytes per line, meaning."""
    _, notes = decode_frame(bytes.fromhex(vector["hex"]))
    lines = []
    for offset, raw, meaning in notes:
        chunks = [raw[i:i + 16] for i in range(0, len(raw), 16)] or [b""]
        for i, chunk in enumerate(chunks):
            hex_bytes = " ".join(f"{b:02x}" for b in chunk)
            text = meaning if i == 0 else ""
            lines.append(f"{offset + 16 * i:04x}  {hex_bytes:<47}  {text}".rstrip())
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="verify the vectors file round-trips")
    mode.add_argument("--dump", action="store_true", help="print annotated hex dumps")
    args = parser.parse_args()

    if args.check or args.dump:
        vectors = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
        if args.dump:
            for vector in vectors:
                print(f"{vector['name']} ({vector['direction']}):\n{dump(vector)}\n")
            return 0
        failures = check(vectors)
        if failures:
            print(f"{failures} problem(s) in {VECTORS_PATH}", file=sys.stderr)
            return 1
        print(f"{len(vectors)} vectors round-trip")
        return 0

    vectors = build_vectors()
    if check(vectors):
        return 1
    VECTORS_PATH.parent.mkdir(parents=True, exist_ok=True)
    VECTORS_PATH.write_text(json.dumps(vectors, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {VECTORS_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
