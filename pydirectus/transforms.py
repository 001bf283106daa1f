"""Asset transforms: check the keyword arguments of /assets/{id} and turn them into GET parameters.

Pure: no I/O. The names and values are Directus 12's (``ASSET_TRANSFORM_QUERY_KEYS`` and
``TransformationMethods`` in its source); anything Directus would refuse, or silently ignore,
raises UsageError naming the argument before a request is sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .checks import check_bool, check_int_range
from .errors import UsageError

__all__ = ["FITS", "FORMATS", "SHARP_METHODS", "TRANSFORM_ARGUMENTS", "transform_params"]

FITS: Final = ("cover", "contain", "inside", "outside", "fill")
# "auto" picks AVIF or WebP from the request's Accept header, else the source type.
FORMATS: Final = ("auto", "jpg", "jpeg", "png", "webp", "tiff", "avif")
SHARP_METHODS: Final = frozenset({
    "toFormat", "jpeg", "png", "tiff", "webp", "avif", "resize", "extend", "extract", "trim",
    "rotate", "flip", "flop", "sharpen", "median", "blur", "flatten", "gamma", "negate",
    "normalise", "normalize", "clahe", "convolve", "threshold", "linear", "recomb", "modulate",
    "tint", "greyscale", "grayscale", "toColorspace", "toColourspace", "removeAlpha",
    "ensureAlpha", "extractChannel", "bandbool",
})
# Directus's own limit (ASSETS_TRANSFORM_IMAGE_MAX_OUTPUT_DIMENSION defaults to 6000) is a
# server setting; this only catches values no server accepts.
MAX_DIMENSION: Final = 1 << 16
TRANSFORM_ARGUMENTS: Final = ("width", "height", "fit", "quality", "format",
                              "without_enlargement", "focal_point_x", "focal_point_y", "key",
                              "transforms", "download")


def _choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise UsageError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value.lower()


def _json_value(name: str, value: Any) -> Any:
    # Sharp options are plain JSON: numbers, strings, bools, lists and objects.
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"{name}: expected a finite number, got {value!r}")
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_value(f"{name}[{key!r}]", item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(f"{name}[{index}]", item) for index, item in enumerate(value)]
    raise UsageError(f"{name}: expected JSON values (numbers, strings, lists, dicts), "
                     f"got {type(value).__name__}")


def _transforms(value: Any) -> str:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise UsageError("transforms: expected a list of [method, *arguments] lists, e.g. "
                         f"[['blur', 5]], got {type(value).__name__}")
    steps: list[Any] = []
    for index, step in enumerate(value):
        where = f"transforms[{index}]"
        if isinstance(step, str | bytes | Mapping) or not isinstance(step, Sequence) or not step:
            raise UsageError(f"{where}: expected a [method, *arguments] list, got {step!r}")
        method = step[0]
        if method not in SHARP_METHODS:
            raise UsageError(f"{where}: {method!r} is not a transformation Directus allows "
                             f"(one of {', '.join(sorted(SHARP_METHODS))})")
        steps.append([method, *(_json_value(f"{where}[{n}]", arg)
                                for n, arg in enumerate(step[1:], 1))])
    return json.dumps(steps, separators=(",", ":"))


def transform_params(transforms: Mapping[str, Any]) -> dict[str, str]:
    """Return the /assets GET parameters for transform keyword arguments, checking each one."""
    params: dict[str, str] = {}
    for name, value in transforms.items():
        if value is None:
            continue
        if name in ("width", "height"):
            params[name] = str(check_int_range(value, name, 1, MAX_DIMENSION))
        elif name == "quality":
            params[name] = str(check_int_range(value, name, 1, 100))
        elif name in ("focal_point_x", "focal_point_y"):
            params[name] = str(check_int_range(value, name, 0, MAX_DIMENSION))
        elif name == "fit":
            params[name] = _choice(name, value, FITS)
        elif name == "format":
            params[name] = _choice(name, value, FORMATS)
        elif name in ("without_enlargement", "download"):
            if check_bool(value, name):
                params["withoutEnlargement" if name == "without_enlargement" else name] = "true"
        elif name == "key":
            if not isinstance(value, str) or not value.strip():
                raise UsageError(f"key: expected the name of a storage asset preset, "
                                 f"got {value!r}")
            params[name] = value
        elif name == "transforms":
            params[name] = _transforms(value)
        else:
            raise UsageError(f"{name}: not an asset transform; expected one of "
                             f"{', '.join(TRANSFORM_ARGUMENTS)}")
    if "fit" in params and "width" not in params and "height" not in params:
        # Directus only resizes (and so only fits) when a width or height is given.
        raise UsageError("fit: needs width or height, else Directus ignores it")
    return params
