"""The base of every block of the catalog."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A block of the catalog: an unknown key is an error, and nothing changes once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
