"""Compact, link-safe text for a JSON-able value: an uploaded model or device, or a pinned
baseline, travels inside the URL so a shared link opens the same what-if.

JSON -> zlib (level 9) -> URL-safe base64 without padding: a bundled-size model spec is about
1-2 kB of link text, well inside what browsers and Streamlit accept.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

#: Refuse decoded payloads beyond this (a hostile or corrupted link must not exhaust memory).
MAX_DECODED_BYTES = 4_000_000


def pack(value: Any) -> str:
    """`value` (JSON-able) as URL-safe text."""
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def unpack(text: str) -> Any:
    """The value `pack` encoded; ValueError (one sentence) for text that is not such a value."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, MAX_DECODED_BYTES)
        if inflater.unconsumed_tail:
            raise ValueError("too large")
        return json.loads(raw)
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"not a perfsim link payload ({exc.__class__.__name__})") from None
