"""SCRAMSHA256 / SCRAMPBKDF2SHA256 authentication, server side.

The AUTHENTICATION part holds a field list: ``h count`` then each field as a 1-byte length
(<= 250) or ``0xFF`` + big-endian u16 length, then the bytes. Nested field lists (the
method's parameters) are themselves encoded the same way inside one field. The maths
follows SAP/go-hdb ``driver/internal/protocol/auth/scramsha256.go`` and node-hdb
``lib/protocol/auth/SCRAMSHA256.js``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

SCRAMSHA256 = b"SCRAMSHA256"
SCRAMPBKDF2SHA256 = b"SCRAMPBKDF2SHA256"
PBKDF2_ROUNDS = 15000


def decode_fields(data: bytes) -> list[bytes]:
    """Decode an authentication field list."""
    if len(data) < 2:
        return []
    (count,) = struct.unpack_from("<h", data, 0)
    pos = 2
    fields: list[bytes] = []
    for _ in range(count):
        length = data[pos]
        pos += 1
        if length == 0xFF:
            (length,) = struct.unpack_from(">H", data, pos)
            pos += 2
        elif length > 250:
            raise ValueError(f"unsupported auth field length marker {length:#x}")
        fields.append(data[pos : pos + length])
        pos += length
    return fields


def encode_fields(fields: list[bytes]) -> bytes:
    """Encode an authentication field list."""
    out = bytearray(struct.pack("<h", len(fields)))
    for f in fields:
        if len(f) <= 250:
            out.append(len(f))
        else:
            out += b"\xff" + struct.pack(">H", len(f))
        out += f
    return bytes(out)


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def salted_password(method: bytes, password: str, salt: bytes, rounds: int) -> bytes:
    """The salted password for SCRAMSHA256 (HMAC) or SCRAMPBKDF2SHA256 (PBKDF2)."""
    pw = password.encode("utf-8")
    if method == SCRAMPBKDF2SHA256:
        return hashlib.pbkdf2_hmac("sha256", pw, salt, rounds, 32)
    return _hmac(pw, salt)


def client_proof(
    method: bytes,
    password: str,
    salt: bytes,
    server_challenge: bytes,
    client_challenge: bytes,
    rounds: int = PBKDF2_ROUNDS,
) -> bytes:
    """What a client sends as proof (used by the tests of this module)."""
    salted = salted_password(method, password, salt, rounds)
    client_key = hashlib.sha256(salted).digest()
    stored_key = hashlib.sha256(client_key).digest()
    sig = _hmac(stored_key, salt + server_challenge + client_challenge)
    return _xor(sig, client_key)


@dataclass
class ScramExchange:
    """One authentication attempt: created on AUTHENTICATE, verified on CONNECT."""

    user: str
    method: bytes
    client_challenge: bytes
    salt: bytes
    server_challenge: bytes
    rounds: int = PBKDF2_ROUNDS

    @classmethod
    def start(cls, auth_part: bytes) -> ScramExchange:
        """Parse the client's AUTHENTICATE fields and pick SCRAMSHA256 when offered."""
        fields = decode_fields(auth_part)
        user = fields[0].decode("utf-8")
        offers = {fields[i]: fields[i + 1] for i in range(1, len(fields) - 1, 2)}
        method = SCRAMSHA256 if SCRAMSHA256 in offers else SCRAMPBKDF2SHA256
        if method not in offers:
            raise ValueError(f"no SCRAM method offered: {sorted(offers)}")
        nested = offers[method]
        # The challenge is sent raw (64 bytes); tolerate a nested field list too.
        challenge = nested if len(nested) == 64 else decode_fields(nested)[0]
        return cls(user, method, challenge, os.urandom(16), os.urandom(48))

    def challenge_reply(self) -> bytes:
        """The AUTHENTICATION part data answering AUTHENTICATE."""
        params = [self.salt, self.server_challenge]
        if self.method == SCRAMPBKDF2SHA256:
            params.append(struct.pack(">I", self.rounds))
        return encode_fields([self.method, encode_fields(params)])

    def verify(self, auth_part: bytes, password: str | None) -> bytes | None:
        """Check CONNECT's proof; the AUTHENTICATION reply data when valid, else None."""
        if password is None:
            return None
        fields = decode_fields(auth_part)
        if len(fields) < 3:
            return None
        nested = fields[2]
        proof = nested if len(nested) == 32 else decode_fields(nested)[0]
        salted = salted_password(self.method, password, self.salt, self.rounds)
        client_key = hashlib.sha256(salted).digest()
        stored_key = hashlib.sha256(client_key).digest()
        sig = _hmac(stored_key, self.salt + self.server_challenge + self.client_challenge)
        if len(proof) != 32 or hashlib.sha256(_xor(proof, sig)).digest() != stored_key:
            return None
        server_key = _hmac(salted, self.salt)
        server_proof = _hmac(server_key, self.client_challenge + self.salt + self.server_challenge)
        return encode_fields([self.method, encode_fields([server_proof])])
