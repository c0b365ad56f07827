"""Seeded randomness that never depends on the order things are generated in.

Every draw comes from a generator keyed by (seed, stream, ...): the population uses one stream, each
web-event day uses streams keyed by its date. So a day's events are the same whichever window of days
is generated, and adding a day never shifts the random numbers of another.
"""
from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

# Stream ids: one per independent use. Append new ones; never renumber.
POPULATION, PRICING, UPGRADE, UPSELL_WIN, UPSELL_LOSS, NEW_BUSINESS, DAY_SESSIONS, DAY_PRODUCT, \
    DAY_ANON, DAY_BOTS, DAY_PAGES, DAY_MESSY, DAY_IDS, CRM, AUDIENCE_OUTCOME = range(15)

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def rng(seed: int, *keys: int) -> np.random.Generator:
    """A numpy generator for (seed, *keys); identical on every platform and numpy 2.x version."""
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *[int(k) for k in keys]]))


def mix64(*parts: np.ndarray | int) -> np.ndarray:
    """SplitMix64-style hash of integer arrays (broadcast together) into uint64: stable ids and choices."""
    with np.errstate(over="ignore"):
        h = np.uint64(0x9E3779B97F4A7C15)
        for part in parts:
            x = np.asarray(part).astype(np.uint64) + h
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = x ^ (x >> np.uint64(31))
        return np.asarray(h, dtype=np.uint64)


def _nibbles(values: np.ndarray) -> np.ndarray:
    """uint64 -> (n, 16) array of hex digit values, most significant first."""
    raw = np.asarray(values, dtype=">u8").reshape(-1).view(np.uint8).reshape(-1, 8)
    out = np.empty((raw.shape[0], 16), dtype=np.uint8)
    out[:, 0::2] = raw >> 4
    out[:, 1::2] = raw & 15
    return out


def _as_strings(digits: np.ndarray) -> pl.Series:
    """(n, width) digit values (16 = '-') -> a Polars string column, without Python objects."""
    chars = digits + np.uint8(48) + (digits > 9) * np.uint8(39)
    chars[digits == 16] = ord("-")
    chars = np.ascontiguousarray(chars)
    array = pa.FixedSizeBinaryArray.from_buffers(pa.binary(chars.shape[1]), chars.shape[0], [None, pa.py_buffer(chars)])
    return pl.from_arrow(array.cast(pa.string()))


def hex_strings(values: np.ndarray, width: int = 16) -> pl.Series:
    """uint64 array -> fixed-width lowercase hex strings, vectorised (no per-row Python)."""
    return _as_strings(_nibbles(values)[:, 16 - width:])


def uuid_strings(hi: np.ndarray, lo: np.ndarray) -> pl.Series:
    """Two uint64 arrays -> UUID-shaped strings (8-4-4-4-12), as Segment's anonymousId/messageId look."""
    a, b = _nibbles(hi), _nibbles(lo)
    nib = np.empty((a.shape[0], 36), dtype=np.uint8)
    nib[:, [8, 13, 18, 23]] = 16
    nib[:, 0:8], nib[:, 9:13], nib[:, 14:18] = a[:, 0:8], a[:, 8:12], a[:, 12:16]
    nib[:, 19:23], nib[:, 24:36] = b[:, 0:4], b[:, 4:16]
    return _as_strings(nib)
