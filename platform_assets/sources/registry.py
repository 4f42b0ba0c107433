"""The source kinds the catalog knows, one line each: where its read spec (`kind.ReadSpec`) is.

The catalog validates `read:` against these (a discriminated union on `kind`), and runtime only
ever asks a spec for its traits and its batches, so adding a kind is a module and a line here.
"""

from __future__ import annotations

import functools
import importlib
import operator
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import Field

from platform_assets.sources.kind import ReadSpec

KINDS = (
    "platform_assets.sources.files.spec:FilesRead",
    "platform_assets.sources.http_api.spec:HttpApiRead",
    "platform_assets.sources.database.spec:DatabaseRead",
)


@functools.cache
def read_specs() -> tuple[type[ReadSpec], ...]:
    """The kinds' spec classes, imported, in the registry's order."""
    specs: dict[str, type[ReadSpec]] = {}
    for entry in KINDS:
        module, _, name = entry.partition(":")
        spec = getattr(importlib.import_module(module), name)
        if not (isinstance(spec, type) and issubclass(spec, ReadSpec)):
            raise TypeError(f"{entry} is not a ReadSpec")
        annotation = spec.model_fields["kind"].annotation
        if get_origin(annotation) is not Literal or len(get_args(annotation)) != 1:
            raise TypeError(f"{entry}: its kind must be a Literal of one name")
        kind = get_args(annotation)[0]
        if kind in specs:
            raise TypeError(f"{entry}: kind {kind!r} is {specs[kind].__name__}'s already")
        specs[kind] = spec
    return tuple(specs.values())


def read_union() -> Any:
    """The type of a source's `read:`: one of the kinds, told apart by `kind`."""
    specs = read_specs()
    if len(specs) == 1:
        return specs[0]
    return Annotated[functools.reduce(operator.or_, specs), Field(discriminator="kind")]
