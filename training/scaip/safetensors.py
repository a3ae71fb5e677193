"""Minimal safetensors reader/writer (the `safetensors` package is not installable here).

Layout: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}}, raw
little-endian tensor bytes. https://github.com/huggingface/safetensors (format description only).
"""
import json
import struct

import numpy as np
import torch

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_NAMES = {v: k for k, v in _DTYPES.items()}


class SafetensorsError(ValueError):
    pass


def load_file(path):
    """Read every tensor of a .safetensors file -> {name: torch.Tensor} (copies, writable)."""
    with open(path, "rb") as f:
        blob = f.read()
    return loads(blob, str(path))


def loads(blob, where="<bytes>"):
    if len(blob) < 8:
        raise SafetensorsError(f"{where}: file too short for a safetensors header")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise SafetensorsError(f"{where}: header length {n} exceeds the file size {len(blob)}")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SafetensorsError(f"{where}: header is not valid JSON ({err})") from None
    data = memoryview(blob)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info.get("dtype")
        if dtype == "BF16":
            begin, end = info["data_offsets"]
            bits = np.frombuffer(data[begin:end], dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32).reshape(info["shape"])
            out[name] = torch.from_numpy(arr.copy())
            continue
        if dtype not in _DTYPES:
            raise SafetensorsError(f"{where}: tensor {name!r} has unsupported dtype {dtype!r}")
        begin, end = info["data_offsets"]
        shape = [int(s) for s in info["shape"]]
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= begin <= end <= len(data)) or end - begin != count * _DTYPES[dtype].itemsize:
            raise SafetensorsError(f"{where}: tensor {name!r} offsets {begin}..{end} do not fit shape {shape} {dtype}")
        arr = np.frombuffer(data[begin:end], dtype=_DTYPES[dtype]).reshape(shape)
        out[name] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=True))
    return out


def save_file(tensors, path, metadata=None):
    """Write {name: tensor} to path; tensors keep their dtype (cast before calling to choose)."""
    with open(path, "wb") as f:
        f.write(dumps(tensors, metadata))


def dumps(tensors, metadata=None):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        arr = tensors[name].detach().cpu().contiguous().numpy()
        dt = arr.dtype.newbyteorder("<") if arr.dtype.itemsize > 1 else arr.dtype
        if dt not in _NAMES:
            raise SafetensorsError(f"tensor {name!r}: unsupported dtype {arr.dtype}")
        raw = arr.astype(dt, copy=False).tobytes()
        header[name] = {"dtype": _NAMES[dt], "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # keep the data 8-byte aligned
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)
